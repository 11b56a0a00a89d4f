"""The VAE and the DDPM on tables with categorical columns.

A table of one categorical column has a known best likelihood: its
empirical distribution's, ``-H``. A bound on any model's log-likelihood of
the training rows lies below it, and a trained model comes close.
"""

import numpy as np
import pandas as pd
import pytest

from probmodels import DDPM, VAE

RNG = np.random.default_rng(0)
P = np.array([0.6, 0.3, 0.1])


def one_column(n=600, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"c": pd.Categorical(rng.choice(["a", "b", "c"], n, p=P))})


def empirical_log_likelihood(frame):
    freq = frame["c"].value_counts(normalize=True)
    return float((freq * np.log(freq)).sum())


def mixed(n=400, seed=1):
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n) + 4 * group,
            "kind": np.where(group == 1, "high", rng.choice(["low", "mid"], n)),
            "count": rng.poisson(3 + 5 * group),
            "flag": rng.random(n) < 0.3 + 0.4 * group,
        }
    )


MODELS = {
    # beta given (the weight these tolerances were set at): one training.
    "vae": lambda **kw: VAE(
        latent_dim=2, hidden_layer_sizes=(32,), random_state=0, **{"beta": 0.5, **kw}
    ),
    "ddpm": lambda **kw: DDPM(
        n_timesteps=20, hidden_layer_sizes=(64, 64), random_state=0, **kw
    ),
}


def test_the_vae_bound_on_one_categorical_column_is_below_and_near_its_entropy():
    frame = one_column()
    best = empirical_log_likelihood(frame)
    # The rows take three values, and a row's draws are keyed on its values,
    # so the Monte Carlo errors of the bound do not average over the rows:
    # K is large enough that they stay within the tolerance. (The mixture
    # prior's log-weights vary more than N(0, I)'s: at K = 20 this
    # model's bound overshoots by 0.023, at K = 2,000 it is 0.005 below.)
    vae = MODELS["vae"](max_epochs=60, batch_size=64, n_importance=2000).fit(frame)
    score = vae.score(frame)
    assert score <= best + 0.02  # a bound, below the best any model reaches
    assert score > best - 0.1  # and a trained model comes close
    freq = vae.sample(3000, random_state=0)["c"].value_counts(normalize=True)
    np.testing.assert_allclose(freq[["a", "b", "c"]].to_numpy(), P, atol=0.05)


def test_the_ddpm_bound_on_one_categorical_column_is_below_its_entropy():
    """Each distinct row's score is one Monte Carlo draw of its bound (the
    draws are keyed on the row): averaged over draws it is the bound, below
    ``log p_emp(c)`` and, trained with the cosine schedule, near it."""
    frame = one_column()
    freq = frame["c"].value_counts(normalize=True)[["a", "b", "c"]]
    ddpm = MODELS["ddpm"](
        max_epochs=100, batch_size=64, beta_schedule="cosine", n_score_timesteps=None
    ).fit(frame)
    rows = pd.DataFrame({"c": pd.Categorical(["a", "b", "c"])})
    draws = []
    for seed in range(40):
        ddpm._score_seed = seed
        draws.append(ddpm.score_samples(rows))
    bound = np.mean(draws, axis=0)
    error = np.std(draws, axis=0) / np.sqrt(len(draws))
    assert (bound <= np.log(freq.to_numpy()) + 3 * error + 0.01).all()
    assert bound @ freq.to_numpy() > empirical_log_likelihood(frame) - 0.1
    samples = ddpm.sample(3000, random_state=0)["c"].value_counts(normalize=True)
    np.testing.assert_allclose(samples[["a", "b", "c"]].to_numpy(), P, atol=0.05)


@pytest.mark.parametrize("name", MODELS)
def test_a_mixed_table_comes_back_in_its_kinds_with_its_structure(name):
    frame = mixed()
    model = MODELS[name](max_epochs=200, batch_size=64).fit(frame)
    samples = model.sample(600, random_state=0)
    assert list(samples.columns) == list(frame.columns)
    assert (samples.dtypes == frame.dtypes).all()
    assert set(samples["kind"]) <= {"high", "low", "mid"}
    assert samples["count"].between(frame["count"].min(), frame["count"].max()).all()
    # The categories follow the numbers, as in the data.
    high = samples["x"] > 2
    # (The data: 0.98 and 0.02; a model of this size, 0.85 and 0.15.)
    assert samples.loc[high, "kind"].eq("high").mean() > 0.75
    assert samples.loc[~high, "kind"].eq("high").mean() < 0.25
    # Scores are finite, and an unseen category is named.
    assert np.isfinite(model.score_samples(frame.head(20))).all()
    bad = frame.head(3).assign(kind=["high", "top", "low"])
    with pytest.raises(ValueError, match=r"Column 'kind' holds 'top' \(row 1\)"):
        model.score_samples(bad)


def test_the_vae_encodes_and_decodes_a_table():
    frame = mixed(200)
    vae = MODELS["vae"](max_epochs=20).fit(frame)
    Z = vae.transform(frame.head(5))
    assert Z.shape == (5, 2)
    back = vae.inverse_transform(Z)
    assert list(back.columns) == list(frame.columns)
    assert (back.dtypes == frame.dtypes).all()


def test_a_conditional_ddpm_samples_a_table_per_label():
    frame = mixed(400)
    labels = np.where(frame["x"] > 2, "right", "left")
    ddpm = MODELS["ddpm"](max_epochs=60).fit(frame.drop(columns="x"), labels)
    right = ddpm.sample(300, y="right", guidance_scale=1.0, random_state=0)
    left = ddpm.sample(300, y="left", n_steps=10, random_state=0)
    assert right["kind"].eq("high").mean() > 0.7 > left["kind"].eq("high").mean()
    assert right["count"].mean() > left["count"].mean() + 2
