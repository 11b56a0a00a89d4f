"""SDV's side of ``bench_tables.py``, run by SDV's own Python (it needs pandas < 3).

Called as ``PEER_PYTHON _sdv_peer.py FOLDER``: reads ``FOLDER/train.csv``,
``FOLDER/n_samples`` and ``FOLDER/dtypes.json``; fits each SDV synthesizer
with its defaults; writes ``FOLDER/<name>.csv`` (as many rows as asked) and
``FOLDER/sdv.json`` (fit and sample seconds per synthesizer). The metrics are
computed by the benchmark itself, the same code for every generator.

Make its environment with ``make sdv-venv`` (``.venv-sdv``).
"""

import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from sdv.metadata import Metadata
from sdv.single_table import (
    CTGANSynthesizer,
    GaussianCopulaSynthesizer,
    TVAESynthesizer,
)

SYNTHESIZERS = {
    "SDV GaussianCopula": GaussianCopulaSynthesizer,
    "SDV TVAE": TVAESynthesizer,
    "SDV CTGAN": CTGANSynthesizer,
}


def main(folder: Path, only: list[str]) -> None:
    warnings.simplefilter("ignore")  # SDV's advice on saving metadata
    train = pd.read_csv(folder / "train.csv")
    dtypes = json.loads((folder / "dtypes.json").read_text())
    for name, dtype in dtypes.items():
        if dtype == "datetime":
            train[name] = pd.to_datetime(train[name])
    n = int((folder / "n_samples").read_text())
    metadata = Metadata.detect_from_dataframes({"table": train})
    times = {}
    for name, cls in SYNTHESIZERS.items():
        if only and name not in only:
            continue
        model = cls(metadata)
        tic = time.perf_counter()
        model.fit({"table": train})  # SDV 2.0 takes and gives {name: table}
        fit = time.perf_counter() - tic
        tic = time.perf_counter()
        samples = model.sample(n)
        samples = samples["table"] if isinstance(samples, dict) else samples
        times[name] = {"fit": fit, "sample": time.perf_counter() - tic}
        samples.to_csv(folder / f"{name}.csv", index=False)
        print(f"  {name}: fit {fit:.1f} s", flush=True)
    (folder / "sdv.json").write_text(json.dumps(times))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
