"""GaussianMixture on Dask arrays against the in-memory fit on the same rows."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from probmodels import GaussianMixture
from probmodels.exceptions import ConvergenceWarning
from probmodels.mixture._dask import INIT_SAMPLE_ROWS, sample_rows

da = pytest.importorskip("dask.array")

X, _ = make_blobs(3000, n_features=3, centers=3, random_state=0)
W = np.random.default_rng(1).uniform(0.5, 2.0, size=len(X))


def chunked(values, rows=400):
    return da.from_array(values, chunks=(rows,) + values.shape[1:])


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def starting_point(covariance_type):
    ref = GaussianMixture(3, covariance_type=covariance_type, max_iter=2, random_state=0)
    ref.fit(X)
    return {
        "weights_init": ref.weights_,
        "means_init": ref.means_,
        "precisions_init": ref.precisions_,
    }


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_same_start_gives_the_in_memory_fit(covariance_type, weighted):
    kw = dict(covariance_type=covariance_type, max_iter=15, tol=0.0)
    start = starting_point(covariance_type)
    weights = (W, chunked(W)) if weighted else (None, None)
    ours = GaussianMixture(3, **kw, **start).fit(chunked(X), sample_weight=weights[1])
    ref = GaussianMixture(3, **kw, **start).fit(X, sample_weight=weights[0])
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        a, b = getattr(ours, name), getattr(ref, name)
        assert np.max(np.abs(a - b)) <= 1e-10 * np.max(np.abs(b)), name
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-12)
    assert ours.n_iter_ == ref.n_iter_


def test_inference_on_a_dask_array_is_lazy_and_equal():
    gm = GaussianMixture(3, random_state=0).fit(X)
    Xd = chunked(X)
    for method in ("score_samples", "predict_proba", "predict"):
        lazy = getattr(gm, method)(Xd)
        assert type(lazy).__module__.startswith("dask")
        assert lazy.chunks[0] == Xd.chunks[0]
        np.testing.assert_allclose(lazy.compute(), getattr(gm, method)(X), rtol=1e-12)
    score = gm.score(Xd)
    assert isinstance(score, float) and score == pytest.approx(gm.score(X), rel=1e-12)
    # fit_predict's labels come back lazy, like the data.
    labels = GaussianMixture(3, random_state=0).fit_predict(Xd)
    assert type(labels).__module__.startswith("dask") and labels.shape == (len(X),)


def test_initialisation_samples_rows_chunk_by_chunk():
    big = np.arange(50_000.0).reshape(-1, 1)
    rows, _ = sample_rows(chunked(big, 7_000), INIT_SAMPLE_ROWS, np.random.default_rng(0))
    assert rows.shape == (INIT_SAMPLE_ROWS, 1)
    assert len(np.unique(rows)) == INIT_SAMPLE_ROWS  # without replacement
    # Uniform over the rows: every tenth of the range gets about a tenth.
    share = np.histogram(rows, bins=10, range=(0, 50_000))[0] / INIT_SAMPLE_ROWS
    assert np.all(np.abs(share - 0.1) < 0.01)
    # The same generator state draws the same rows.
    again, _ = sample_rows(chunked(big, 7_000), 1000, np.random.default_rng(5))
    twice, _ = sample_rows(chunked(big, 7_000), 1000, np.random.default_rng(5))
    np.testing.assert_array_equal(again, twice)


def test_seeded_fit_from_k_means_on_a_sample_repeats_and_fits_well():
    Xd = chunked(X)
    a = GaussianMixture(3, random_state=0).fit(Xd)
    b = GaussianMixture(3, random_state=0).fit(Xd)
    np.testing.assert_array_equal(a.means_, b.means_)
    assert a.score(X) == pytest.approx(GaussianMixture(3, random_state=0).fit(X).score(X), rel=1e-6)


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "match"),
    [
        (lambda: chunked(X).rechunk((400, 2)), {}, ValueError, r"chunked along its features.*rechunk"),
        (lambda: chunked(X.astype(str)), {}, TypeError, "not numeric"),
        (lambda: chunked(np.where(np.arange(3000)[:, None] == 1300, np.inf, X)), {}, ValueError, r"3 infinite value\(s\) in chunk 3 \(rows 1200 to 1599\)"),
        (lambda: chunked(np.where(np.arange(3000)[:, None] == 1300, np.nan, X)), {}, ValueError, "Row 1300 of X has no observed entry"),
        (lambda: chunked(X), {"solver": "gradient"}, ValueError, "fitted by EM"),
        (lambda: chunked(X[:2]), {}, ValueError, "Expected n_samples >= n_components"),
    ],
)
def test_bad_dask_input_is_named_before_the_em_passes(data, kwargs, error, match):
    gm = GaussianMixture(3, random_state=0, **kwargs)
    with pytest.raises(error, match=match):
        gm.fit(data())
    assert not hasattr(gm, "means_")


def test_bad_weights_are_named_by_chunk():
    w = W.copy()
    w[2500] = -1.0
    with pytest.raises(ValueError, match=r"negative or NaN value\(s\) in chunk 6"):
        GaussianMixture(3).fit(chunked(X), sample_weight=chunked(w))


def test_a_fitted_model_refuses_a_dask_array_of_another_width():
    gm = GaussianMixture(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="has 2 features"):
        gm.predict(chunked(X[:, :2]))


def test_a_parquet_dataset_through_dask_dataframe(tmp_path):
    pytest.importorskip("pyarrow")
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    for i, part in enumerate(np.array_split(X, 3)):
        pd.DataFrame(part, columns=["a", "b", "c"]).to_parquet(tmp_path / f"{i}.parquet")
    rows = dd.read_parquet(tmp_path / "*.parquet").to_dask_array(lengths=True)
    start = starting_point("full")
    ours = GaussianMixture(3, max_iter=5, tol=0.0, **start).fit(rows)
    ref = GaussianMixture(3, max_iter=5, tol=0.0, **start).fit(X)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-10)
