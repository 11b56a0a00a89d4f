"""SDV's side of ``bench_impute.py``'s conditional sampling, run by SDV's own Python.

Called as ``PEER_PYTHON _sdv_conditional_peer.py FOLDER``: reads
``FOLDER/train.csv`` and ``FOLDER/condition.json`` (column, value, rows,
TVAE epochs); fits GaussianCopula and TVAE; times ``sample(rows)`` and
``sample_from_conditions`` for the condition; writes ``FOLDER/sdv.json``
(seconds; the share of the rows asked for that came back meeting the
condition; SDV's message when its reject sampling gives up).

Make its environment with ``make sdv-venv`` (``.venv-sdv``).
"""

import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from sdv.metadata import Metadata
from sdv.sampling import Condition
from sdv.single_table import GaussianCopulaSynthesizer, TVAESynthesizer


def _table(samples):
    return samples["table"] if isinstance(samples, dict) else samples


def main(folder: Path) -> None:
    warnings.simplefilter("ignore")
    train = pd.read_csv(folder / "train.csv")
    spec = json.loads((folder / "condition.json").read_text())
    column, value, rows = spec["column"], spec["value"], int(spec["rows"])
    metadata = Metadata.detect_from_dataframes({"table": train})
    makers = {
        "SDV GaussianCopula": lambda: GaussianCopulaSynthesizer(metadata),
        "SDV TVAE": lambda: TVAESynthesizer(metadata, epochs=int(spec["epochs"])),
    }
    out = {}
    for name, make in makers.items():
        model = make()
        tic = time.perf_counter()
        model.fit({"table": train})
        fit = time.perf_counter() - tic
        tic = time.perf_counter()
        _table(model.sample(rows))
        plain = time.perf_counter() - tic
        tic = time.perf_counter()
        condition = Condition(num_rows=rows, column_values={column: value})
        error = None
        try:
            drawn = _table(model.sample_from_conditions(conditions=[condition]))
            met = float((drawn[column] == value).mean()) if len(drawn) else 0.0
        except ValueError as err:  # reject sampling gave up
            drawn, met, error = None, 0.0, " ".join(str(err).split())
        given = time.perf_counter() - tic
        out[name] = {
            "fit": fit,
            "sample": plain,
            "given": given,
            "met": met if drawn is None else met * len(drawn) / rows,
            "error": error,
        }
        print(f"  {name}: given {given:.2f} s, plain {plain:.2f} s", flush=True)
    (folder / "sdv.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
