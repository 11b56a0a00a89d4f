"""Model selection on a real Dask cluster: two worker processes on loopback.

``joblib.parallel_backend("dask")`` spreads ``GridSearchCV`` over the
cluster; the results must equal the sequential search's, and nothing a fit
does inside a worker may take more threads than the worker has.
"""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, KFold, TimeSeriesSplit

from probmodels import (
    DDPM,
    VAE,
    ARRegressor,
    FFNClassifier,
    GaussianMixture,
    TransformerClassifier,
)

distributed = pytest.importorskip("distributed")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(90, 3))
Y = (X[:, 0] + 0.3 * RNG.normal(size=90) > 0).astype(int)
SERIES = pd.Series(np.cumsum(RNG.normal(size=150)) * 0.1 + RNG.normal(size=150))

SEARCHES = {
    "ar": (ARRegressor(), {"p": [1, 2, 3]}, TimeSeriesSplit(3), SERIES, None),
    "gmm": (GaussianMixture(random_state=0), {"n_components": [1, 2, 3]}, KFold(3), X, None),
    "ffn": (
        FFNClassifier((8,), max_epochs=5, random_state=0),
        {"lr": [1e-3, 1e-2]},
        KFold(3),
        X,
        Y,
    ),
    "transformer": (
        TransformerClassifier(
            d_model=4, n_heads=1, n_layers=1, dim_feedforward=4, max_epochs=3, random_state=0
        ),
        {"pooling": ["cls", "mean"]},
        KFold(3),
        X,
        Y,
    ),
    "vae": (
        VAE(hidden_layer_sizes=(8,), max_epochs=5, random_state=0),
        {"latent_dim": [1, 2]},
        KFold(3),
        X,
        None,
    ),
    "ddpm": (
        DDPM(n_timesteps=10, hidden_layer_sizes=(8,), max_epochs=5, n_score_timesteps=3, random_state=0),
        {"n_timesteps": [5, 10]},
        KFold(3),
        X,
        None,
    ),
}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        death_timeout=60,
    )
    with distributed.Client(cluster, timeout=60) as client:
        yield client
    cluster.close(timeout=30)


def search(name, parallel):
    estimator, grid, cv, data, y = SEARCHES[name]
    gs = GridSearchCV(estimator, grid, cv=cv, n_jobs=-1 if parallel else 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if parallel:
            with joblib.parallel_backend("dask"):
                return gs.fit(data, y)
        return gs.fit(data, y)


@pytest.mark.parametrize("name", SEARCHES)
def test_grid_search_on_the_cluster_equals_the_sequential_one(client, name):
    ours, ref = search(name, parallel=True), search(name, parallel=False)
    assert ours.best_params_ == ref.best_params_
    # Workers run one BLAS / torch thread each: sums may round differently.
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"],
        ref.cv_results_["mean_test_score"],
        rtol=1e-6,
    )
    # The tasks really ran on the workers.
    assert len(client.scheduler_info()["workers"]) == 2


def _threads_seen_by_a_task():
    import torch
    from threadpoolctl import threadpool_info

    from probmodels.mixture._em import NumpyStatistics, available_threads

    stats = NumpyStatistics(np.ones((3, 100_000)), n_components=16)
    blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    return available_threads(), stats.n_threads, torch.get_num_threads(), blas


def test_work_inside_a_worker_takes_one_thread(client):
    threads, pool, torch_threads, blas = client.submit(
        _threads_seen_by_a_task, pure=False
    ).result(timeout=120)
    assert threads == 1 and pool == 1
    assert torch_threads == 1
    assert all(n == 1 for n in blas)


def test_gmm_fits_a_dask_array_on_the_cluster(client):
    da = pytest.importorskip("dask.array")
    Xd = da.from_array(np.r_[X - 3, X + 3], chunks=(50, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GaussianMixture(2, random_state=0, max_iter=20).fit(Xd)
        start = {"weights_init": ours.weights_, "means_init": ours.means_}
        on_cluster = GaussianMixture(2, max_iter=5, tol=0.0, **start).fit(Xd)
        local = GaussianMixture(2, max_iter=5, tol=0.0, **start).fit(np.r_[X - 3, X + 3])
    np.testing.assert_allclose(on_cluster.means_, local.means_, rtol=1e-10)
    assert on_cluster.score(Xd) == pytest.approx(local.score(np.r_[X - 3, X + 3]))


def _long_panel():
    from tests.timeseries.test_ar_panel import long_table

    return long_table([45, 80, 130, 61, 200, 90, 77, 150], seed=1)


@pytest.mark.filterwarnings("ignore::probmodels.exceptions.NonStationaryWarning")
@pytest.mark.parametrize("layout", ["rows split across partitions", "by series"])
def test_ar_fits_a_dask_long_table_on_the_cluster(client, layout):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    df = _long_panel()
    if layout == "by series":
        groups = [g for _, g in df.groupby("unique_id")]
        parts = [dask.delayed(pd.concat)(groups[:3]), dask.delayed(pd.concat)(groups[3:])]
        ddf = dd.from_delayed(parts, meta=df.iloc[:0])
    else:
        ddf = dd.from_pandas(df, npartitions=3)  # series straddle partitions
    model = {"p": 3, "ic": "aic", "trend": "ct", "seasonal": True}
    est = ARRegressor(**model, random_state=0).fit(ddf)
    ref = ARRegressor(**model).fit(df)
    assert est.period_ == ref.period_ == 7
    # dask holds the ids as Arrow strings (its convert-string option).
    same = {"rtol": 1e-10, "check_index_type": False}
    pd.testing.assert_frame_equal(est.params_.sort_index(), ref.params_, **same)
    pd.testing.assert_series_equal(est.sigma2_.sort_index(), ref.sigma2_, **same)
    fc = est.forecast(6, alpha=0.1)
    assert type(fc).__module__.startswith("dask")
    got = fc.compute().sort_values(["unique_id", "ds"]).reset_index(drop=True)
    want = ref.forecast(6, alpha=0.1)
    np.testing.assert_allclose(got[["mean", "lower", "upper"]], want[["mean", "lower", "upper"]])
    assert (got["ds"] == want["ds"]).all()
    paths = est.sample(6, n_paths=50).compute()
    assert paths.shape == (8 * 6, 2 + 50)
    fitted = est.predict_in_sample().compute()
    assert len(fitted) == len(ref.predict_in_sample())
    with pytest.raises(ValueError, match="not available for a model fitted on a Dask"):
        est.predict(df)
    with pytest.raises(TypeError, match="cannot be written to a file"):
        pickle.dumps(est)
