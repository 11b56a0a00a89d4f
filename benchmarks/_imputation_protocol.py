"""The imputation protocol of the literature, run by ``bench_impute.py``.

HyperImpute (Jarrett et al., ICML 2022), GAIN, MIWAE and not-MIWAE score
imputers on tables with holes made on purpose: completely at random (MCAR),
at random given observed columns (MAR, a logistic model of the always
observed ones) and not at random (MNAR: self-masked logistic, and
not-MIWAE's "values above the mean go missing in half the columns"), at
several rates, repeated. Each imputer fills the same holes; the scores are

- RMSE on the removed entries, standardised columns (conditional means:
  ``impute(method="mean")`` where an imputer can give both);
- the energy distance between the completed table and the true one
  (``probmodels.metrics.energy_distance``; draws where an imputer can give
  them, since conditional means shrink the table), averaged over
  ``N_DRAWS`` completed tables (multiple imputation): one draw's score
  moves by as much as the gaps between methods from one seed to the next;
- downstream: 5-fold cross-validated accuracy of a logistic regression on
  the completed table (R^2 of a ridge regression for diabetes).

HyperImpute runs in its own environment (``make hi-venv``; its pins clash
with ours) on the same holes, through ``_hyperimpute_peer.py``.
"""

import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from palmerpenguins import load_penguins
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from probmodels import VAE, GaussianMixture
from probmodels.impute import ampute
from probmodels.metrics import energy_distance

HERE = Path(__file__).resolve().parent

#: The imputers the protocol compares ours with, in the order printed.
BASELINES = ("mean", "KNN", "MICE", "missForest")
#: Ours: the mixture under MAR, and under the self-masking model (MNAR holes).
OURS = ("GMM", "GMM-MNAR")
#: Completed tables per imputer that draws (MICE's posterior draws, ours);
#: the energy distance is their mean. One table's score varied by 0.003 to
#: 0.005 between seeds on breast_cancer and wine at 30% holes, the size of
#: the gaps between the best methods.
N_DRAWS = 5


def datasets(names):
    """Standardised complete tables and their targets, by name."""
    loaders = {
        "breast_cancer": lambda: load_breast_cancer(return_X_y=True) + ("class",),
        "wine": lambda: load_wine(return_X_y=True) + ("class",),
        "diabetes": lambda: load_diabetes(return_X_y=True) + ("regression",),
        "penguins": _penguins,
    }
    for name in names:
        X, y, task = loaders[name]()
        yield name, StandardScaler().fit_transform(X), y, task


def _penguins():
    """The four measurements of the 342 penguins that have them, and species."""
    frame = load_penguins()
    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    frame = frame.dropna(subset=columns)
    return frame[columns].to_numpy(float), frame["species"].to_numpy(), "class"


def settings(mechanisms, rates, repeats):
    """(mechanism, rate, repeat) triples; not-MIWAE's protocol has no rate."""
    for mechanism in mechanisms:
        for rate in (None,) if mechanism == "mnar_above_mean" else rates:
            for repeat in range(repeats):
                yield mechanism, rate, repeat


def protocol_holes(X, mechanism, rate, seed):
    """X with the protocol's holes; every row keeps an observed entry."""
    mask = ampute(X, 0.5 if rate is None else rate, mechanism, random_state=seed)
    empty = mask.all(axis=1)
    mask[empty, np.argmin(X[empty], axis=1)] = False
    holes = X.copy()
    holes[mask] = np.nan
    return holes


#: The mixtures :func:`mixture_by_cv` chooses among.
MIXTURE_GRID = {
    "covariance_type": ["full", "tied"],
    "n_components": [1, 2, 3, 4],
    "reg_covar": [1e-6, 0.01, 0.1],
}


def mixture_by_cv(holes, seed=0):
    """The mixture (MAR) of the best held-out log-likelihood, by GridSearchCV.

    ``score`` is the mean log-likelihood of the observed entries, so a
    plain scikit-learn grid search over components, covariance types and
    covariance shrinkage (``reg_covar``, on standardised columns) chooses
    without seeing a hidden value; 3 folds.
    """
    search = GridSearchCV(
        GaussianMixture(random_state=0),
        MIXTURE_GRID,
        cv=KFold(3, shuffle=True, random_state=seed),
        error_score=-np.inf,  # a fold too small for a component: not chosen
    )
    return search.fit(holes).best_estimator_


def self_masking_by_bic(holes, ks=(1, 2, 3)):
    """The self-masking mixture of the lowest BIC, tied covariances.

    BIC of the likelihood of what was seen, holes included (``bic`` of a
    self-masking fit counts the mask's two parameters per column). Tied: a column's
    mask is learned through its correlations with the others, and one
    shared covariance keeps them estimable when half a column is hidden;
    no shrinkage, which would weaken them.
    """
    best, best_bic = None, np.inf
    for k in ks:
        model = GaussianMixture(
            k,
            covariance_type="tied",
            missing="mnar",
            tol=1e-4,
            max_iter=300,
            random_state=0,
        ).fit(holes)
        bic = model.bic(holes)
        if bic < best_bic:
            best, best_bic = model, bic
    return best


def impute_all(holes, mnar, seed, timings, n_draws=N_DRAWS):
    """``{name: (mean fill, [draw fills])}`` for the baselines and ours.

    An imputer that does not draw (mean, KNN, missForest) gives its one fill
    as its one completed table.
    """
    out = {}

    def timed(name, fn):
        tic = time.perf_counter()
        out[name] = fn()
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - tic

    def single(imputer):
        filled = imputer.fit_transform(holes)
        return filled, [filled]

    def fills(model):
        return (
            model.impute(holes, method="mean"),
            [
                model.impute(holes, method="draw", random_state=seed + j)
                for j in range(n_draws)
            ],
        )

    timed("mean", lambda: single(SimpleImputer()))
    timed("KNN", lambda: single(KNNImputer()))
    timed(
        "MICE",
        lambda: (
            IterativeImputer(max_iter=10, random_state=seed).fit_transform(holes),
            [  # a posterior draw is a fit: one per completed table
                IterativeImputer(
                    max_iter=10, sample_posterior=True, random_state=seed + j
                ).fit_transform(holes)
                for j in range(n_draws)
            ],
        ),
    )
    forest = RandomForestRegressor(n_estimators=20, n_jobs=1, random_state=seed)
    timed(
        "missForest",
        lambda: single(IterativeImputer(forest, max_iter=5, random_state=seed)),
    )

    timed("GMM", lambda: fills(mixture_by_cv(holes, seed)))
    if mnar:
        timed("GMM-MNAR", lambda: fills(self_masking_by_bic(holes)))
    return out


def not_miwae(holes, seed, epochs, n_draws=N_DRAWS):
    """not-MIWAE (our VAE with the self-masking model), mean and draw fills."""
    vae = VAE(
        latent_dim=2,
        hidden_layer_sizes=(64, 64),
        activation="tanh",
        decoder_variance="feature",
        train_importance=10,
        missing="mnar",
        max_epochs=epochs,
        lr=3e-3,
        random_state=seed,
    ).fit(holes)
    return (
        vae.impute(holes, method="mean", random_state=seed),
        [
            vae.impute(holes, method="draw", random_state=seed + j)
            for j in range(n_draws)
        ],
    )


def scores(X, y, task, holes, filled, drawn, seed):
    """RMSE on the holes, mean energy distance of the draws, downstream score,
    and the energy distance of the first draw alone (the old single-table
    score, printed beside the mean).

    ``drawn``: the completed tables (one for an imputer that does not draw).
    """
    missing = np.isnan(holes)
    rmse = float(np.sqrt(np.mean((filled[missing] - X[missing]) ** 2)))
    energies = [energy_distance(table, X, random_state=seed) for table in drawn]
    energy = float(np.mean(energies))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = (
            LogisticRegression(max_iter=500) if task == "class" else Ridge(alpha=1.0)
        )
        downstream = float(cross_val_score(model, filled, y, cv=5).mean())
    return rmse, energy, downstream, energies[0]


def run_peer(peer_python, cases):
    """HyperImpute's fills of every case's holes, from its own environment."""
    if not peer_python:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for key, holes in cases.items():
            np.save(folder / f"{key}.npy", holes)
        script = HERE / "_hyperimpute_peer.py"
        done = subprocess.run(
            [peer_python, str(script), str(folder)], capture_output=True, text=True
        )
        if done.returncode:
            print(f"  HyperImpute failed: {done.stderr.strip()[-400:]}")
            return {}
        fills = {}
        for key in cases:
            path = folder / f"{key}.out.npy"
            if path.exists():
                fills[key] = np.load(path)
        seconds = (folder / "seconds.txt").read_text().strip()
        print(f"  HyperImpute: {len(fills)} cases in {float(seconds):.1f} s")
        return fills
