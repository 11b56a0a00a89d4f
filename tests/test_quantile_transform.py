"""``quantile_transform=True``: continuous columns modelled in normal scores.

The reference is scikit-learn's pipeline of the same two steps: a
``QuantileTransformer(output_distribution="normal")`` and the model on its
output. The property the option exists for: a column with a spike of
repeated values (a price of exactly 0, a table width of exactly 56) comes
back with the spike, in its proportion, and within the training range.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import QuantileTransformer

import probmodels
from probmodels import DDPM, VAE, GaussianMixture


def spiky(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(n) < 0.4, 0.0, rng.lognormal(size=n))
    return pd.DataFrame(
        {
            "amount": x,
            "kind": np.where(x > 1, "big", "small"),
            "count": rng.poisson(4, n),
        }
    )


def test_mixture_is_the_pipeline_of_quantiles_and_mixture():
    X = np.random.default_rng(1).standard_t(3, size=(300, 2))
    reference = QuantileTransformer(
        n_quantiles=300, output_distribution="normal", subsample=None
    ).fit(X)
    Z = reference.transform(X)
    ours = GaussianMixture(2, quantile_transform=True, random_state=0).fit(X)
    plain = GaussianMixture(2, random_state=0).fit(Z)
    np.testing.assert_allclose(ours.means_, plain.means_)
    np.testing.assert_allclose(ours.score_samples(X), plain.score_samples(Z))
    np.testing.assert_allclose(ours.predict_proba(X), plain.predict_proba(Z))
    drawn = ours.sample(50, random_state=0)
    expected = reference.inverse_transform(plain.sample(50, random_state=0))
    np.testing.assert_allclose(drawn, expected)


def test_samples_keep_spikes_range_and_dtypes():
    frame = spiky()
    gm = GaussianMixture(3, quantile_transform=True, random_state=0).fit(frame)
    new = gm.sample(4000, random_state=1)
    assert (new.dtypes == frame.dtypes).all()
    share = (new["amount"] == 0.0).mean()
    # 40% of the rows are exactly 0; a binomial share of 4000 draws is
    # within 0.04 of a faithful model's (5 standard errors: 0.0077 each).
    assert abs(share - (frame["amount"] == 0.0).mean()) < 0.04
    for column in ("amount", "count"):
        assert frame[column].min() <= new[column].min()
        assert new[column].max() <= frame[column].max()
    # Without the option the spike is smeared: no sample is exactly 0.
    smooth = GaussianMixture(3, random_state=0).fit(frame).sample(4000, random_state=1)
    assert (smooth["amount"] == 0.0).mean() < 0.01


@pytest.mark.parametrize(
    "make",
    [
        lambda: VAE(latent_dim=2, hidden_layer_sizes=(16,), max_epochs=3),
        lambda: DDPM(n_timesteps=20, hidden_layer_sizes=(16,), max_epochs=3),
    ],
    ids=["VAE", "DDPM"],
)
def test_networks_sample_within_range_and_save(make, tmp_path):
    frame = spiky(200)
    est = make().set_params(quantile_transform=True, random_state=0).fit(frame)
    new = est.sample(300, random_state=0)
    assert (new.dtypes == frame.dtypes).all()
    assert frame["amount"].min() <= new["amount"].min()
    assert new["amount"].max() <= frame["amount"].max()
    assert (new["amount"] == 0.0).any()  # the spike comes back exactly
    path = tmp_path / "model.skops"
    probmodels.save(est, path)
    again = probmodels.load(path)
    pd.testing.assert_frame_equal(
        again.sample(20, random_state=3), est.sample(20, random_state=3)
    )


def test_option_changes_nothing_when_off():
    frame = spiky(200)
    a = GaussianMixture(2, random_state=0).fit(frame)
    b = GaussianMixture(2, quantile_transform=False, random_state=0).fit(frame)
    np.testing.assert_array_equal(a.score_samples(frame), b.score_samples(frame))


def test_dask_array_refused_with_the_fix():
    da = pytest.importorskip("dask.array")
    X = da.from_array(np.random.default_rng(0).normal(size=(100, 2)), chunks=50)
    with pytest.raises(ValueError, match="quantile_transform=True needs"):
        GaussianMixture(2, quantile_transform=True).fit(X)
