"""HyperImpute (Jarrett et al., ICML 2022) on the protocol's holes, in its own environment.

Run by ``_imputation_protocol.run_peer`` with the Python of ``make hi-venv``:
reads every ``<case>.npy`` (NaN where missing) of the folder, writes
``<case>.out.npy`` with HyperImpute's default imputer's fill, and the total
time in ``seconds.txt``.
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from hyperimpute.plugins.imputers import Imputers

folder = Path(sys.argv[1])
tic = time.perf_counter()
for path in sorted(folder.glob("*.npy")):
    if path.name.endswith(".out.npy"):
        continue
    holes = pd.DataFrame(np.load(path))
    plugin = Imputers().get("hyperimpute", random_state=0)
    filled = np.asarray(plugin.fit_transform(holes), dtype=float)
    np.save(folder / f"{path.stem}.out.npy", filled)
(folder / "seconds.txt").write_text(str(time.perf_counter() - tic))
