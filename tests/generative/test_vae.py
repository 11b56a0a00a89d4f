"""VAE: bounds against exact likelihoods, the IWAE ordering, reconstruction,
conditional generation, the scaling's log-Jacobian and bad input."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from probmodels import VAE

FAST = dict(device="cpu", random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def small_vae(digits):
    Xtr = digits[0]
    # beta given: one training (beta="auto" has its own tests).
    return VAE(
        latent_dim=4, hidden_layer_sizes=(64,), max_epochs=20, beta=0.5, **FAST
    ).fit(Xtr)


def ppca_data(n=2000, d=6, latent=2, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, latent))
    X = rng.normal(size=(n, latent)) @ W.T + 0.5 * rng.normal(size=(n, d))
    # Exactly standardised: the VAE's own scaling is then the identity, and
    # PCA's probabilistic model is fitted to the very same numbers.
    return (X - X.mean(0)) / X.std(0)


def test_linear_gaussian_vae_approaches_the_exact_ppca_likelihood_from_below():
    # A linear encoder and decoder with one shared noise variance is
    # probabilistic PCA (Tipping and Bishop, 1999), whose maximum likelihood
    # sklearn's PCA(n).score computes exactly. The ELBO is a lower bound on the
    # VAE's likelihood, itself at most the pPCA maximum: it may approach the
    # exact value but never exceed it (beyond Monte Carlo error). pPCA's
    # prior is N(0, I), and beta="auto" is then 1.
    X = ppca_data()
    exact = PCA(2).fit(X).score(X)
    vae = VAE(
        latent_dim=2,
        hidden_layer_sizes=(),
        decoder_variance="shared",
        prior="normal",
        max_epochs=100,
        lr=1e-2,
        **FAST,
    ).fit(X)
    assert abs(vae._scaler.log_jacobian) < 1e-9
    for k in (1, 100):
        bound = vae.set_params(n_importance=k).score(X)
        assert bound <= exact + 0.01
        assert bound >= exact - 0.05


def test_iwae_is_at_least_the_elbo_and_grows_with_k(digits):
    Xtr, Xte = digits[0], digits[1][:150]
    vae = VAE(latent_dim=4, hidden_layer_sizes=(64,), max_epochs=15, beta=0.5, **FAST)
    vae.fit(Xtr + np.random.default_rng(0).uniform(size=Xtr.shape))
    Xte = Xte + np.random.default_rng(1).uniform(size=Xte.shape)
    scores = {
        k: vae.set_params(n_importance=k).score_samples(Xte) for k in (1, 10, 100)
    }
    for small, large in [(1, 10), (10, 100)]:
        diff = scores[large] - scores[small]
        se = diff.std() / math.sqrt(len(diff))
        assert diff.mean() > -3 * se, (small, large, diff.mean(), se)
    # A short fit leaves a real gap between q and the posterior: K helps.
    assert scores[100].mean() > scores[1].mean() + 0.5


def test_reconstruction_of_held_out_digits_beats_pca(digits):
    Xtr, Xte = digits[0], digits[1]
    pca = PCA(8).fit(Xtr)
    pca_error = ((pca.inverse_transform(pca.transform(Xte)) - Xte) ** 2).mean()
    vae = VAE(
        latent_dim=8,
        hidden_layer_sizes=(256,),
        decoder_variance="feature",
        beta=0.5,  # sharp posteriors: the weight these figures were measured at
        max_epochs=300,
        lr=3e-3,
        **FAST,
    ).fit(Xtr)
    vae_error = ((vae.inverse_transform(vae.transform(Xte)) - Xte) ** 2).mean()
    # Measured: 4.0 against PCA's 6.3 mean squared pixel error.
    assert vae_error < 0.8 * pca_error


def test_conditional_vae_generates_the_requested_digits(digits):
    Xtr, _, ytr, _ = digits
    judge = LogisticRegression(max_iter=3000).fit(Xtr, ytr)
    cvae = VAE(
        latent_dim=8,
        hidden_layer_sizes=(256,),
        decoder_variance="feature",
        beta=0.5,  # sharp posteriors: the weight this was measured at
        max_epochs=200,
        lr=3e-3,
        **FAST,
    ).fit(Xtr, ytr)
    labels = np.repeat(np.arange(10), 20)
    samples = cvae.sample(200, y=labels, random_state=0)
    assert (judge.predict(samples) == labels).mean() > 0.9
    sevens = cvae.sample(30, y=7, mean=True, random_state=1)
    assert (judge.predict(sevens) == 7).mean() > 0.9
    # Scores under the true label beat scores under a wrong one.
    Xte = Xtr[:100]
    right = cvae.score_samples(Xte, ytr[:100])
    wrong = cvae.score_samples(Xte, (ytr[:100] + 1) % 10)
    assert (right > wrong).mean() > 0.9
    # Without labels: the mixture over labels, at least the best single label
    # minus log of the label's prior weight.
    marginal = cvae.score_samples(Xte)
    assert np.all(marginal >= right + np.log(cvae.class_prior_[ytr[:100]]) - 1e-6)


def test_scores_are_densities_of_the_data_as_given(digits):
    # Standardising inside makes 10 X + 5 train exactly as X does; the density
    # of 10 X + 5 is that of X divided by 10 in each dimension.
    X = digits[0][:400] + np.random.default_rng(0).uniform(size=(400, 64))
    kw = dict(latent_dim=2, hidden_layer_sizes=(16,), max_epochs=5, **FAST)
    a, b = VAE(**kw).fit(X), VAE(**kw).fit(10 * X + 5)
    a.set_params(n_importance=20), b.set_params(n_importance=20)
    # Each row's draws are keyed on its values, so the two scores of a row
    # differ by Monte Carlo noise; the mean shift is the log-Jacobian.
    shift = a.score_samples(X[:200]) - b.score_samples(10 * X[:200] + 5)
    assert shift.mean() == pytest.approx(64 * math.log(10), abs=0.5)  # 147.4
    np.testing.assert_allclose(
        10 * a.sample(5, mean=True, random_state=3) + 5,
        b.sample(5, mean=True, random_state=3),
        rtol=1e-3,
        atol=1e-2,
    )


def test_constant_columns_give_finite_scores(small_vae, digits):
    Xte = digits[1]
    assert (Xte[:, 0] == 0).all()  # a border pixel that never lights up
    scores = small_vae.score_samples(Xte)
    assert np.isfinite(scores).all()
    assert np.isfinite(small_vae.sample(3)).all()


def test_bernoulli_likelihood_on_binary_digits(digits):
    B = (digits[0] > 7).astype(float)
    vae = VAE(
        latent_dim=4,
        hidden_layer_sizes=(64,),
        likelihood="bernoulli",
        max_epochs=20,
        **FAST,
    ).fit(B)
    scores = vae.score_samples(B[:50])
    assert np.all(scores < 0)  # log-probabilities of binary images
    draws = vae.sample(20, random_state=0)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    means = vae.sample(20, mean=True, random_state=0)
    assert np.all((means > 0) & (means < 1))
    with pytest.raises(ValueError, match=r"needs data in \[0, 1\].*MinMaxScaler"):
        VAE(likelihood="bernoulli", **FAST).fit(digits[0])


def test_transform_in_a_pipeline_with_feature_names(small_vae, digits):
    Xtr, Xte, ytr, yte = digits
    Z = small_vae.transform(Xte)
    assert Z.shape == (len(Xte), 4)
    assert small_vae.get_feature_names_out().tolist() == [
        "vae0",
        "vae1",
        "vae2",
        "vae3",
    ]
    frame = small_vae.set_output(transform="pandas").transform(Xte[:5])
    small_vae.set_output(transform="default")
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == ["vae0", "vae1", "vae2", "vae3"]
    pipe = make_pipeline(
        VAE(latent_dim=8, hidden_layer_sizes=(64,), max_epochs=30, beta=1.0, **FAST),
        LogisticRegression(max_iter=2000),
    ).fit(Xtr, ytr)
    assert pipe.score(Xte, yte) > 0.7


def test_dataframe_in_dataframe_out(digits):
    cols = [f"px{i}" for i in range(64)]
    frame = pd.DataFrame(digits[0][:300], columns=cols)
    vae = VAE(latent_dim=2, hidden_layer_sizes=(16,), max_epochs=3, **FAST).fit(frame)
    out = vae.sample(4)
    assert isinstance(out, pd.DataFrame) and out.columns.tolist() == cols
    assert vae.inverse_transform(vae.transform(frame.iloc[:3])).shape == (3, 64)


def test_bad_input_gets_errors_that_name_the_fix(small_vae, digits):
    Xtr, _, ytr, _ = digits
    bad = Xtr[:50].copy()
    bad[3, 5] = np.inf  # NaN is a missing entry (test_vae_missing.py)
    with pytest.raises(ValueError, match="inf"):
        VAE(**FAST).fit(bad)
    with pytest.raises(ValueError, match="fitted without labels"):
        small_vae.sample(2, y=3)
    with pytest.raises(ValueError, match="fitted without labels"):
        small_vae.score_samples(Xtr[:5], ytr[:5])
    with pytest.raises(ValueError, match="64 features"):
        small_vae.transform(Xtr[:5, :10])
    with pytest.raises(ValueError, match="latent_dim=4"):
        small_vae.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        VAE().sample(2)
    cvae = VAE(latent_dim=2, hidden_layer_sizes=(8,), max_epochs=2, **FAST)
    cvae.fit(Xtr[:200], ytr[:200])
    with pytest.raises(ValueError, match=r"labels \[11\] that were not seen in fit"):
        cvae.sample(3, y=11)
    with pytest.raises(ValueError, match="one label per row"):
        cvae.sample(3, y=[1, 2])
    with pytest.raises(ValueError, match=r"labels \['seven'\] that were not seen"):
        cvae.score_samples(Xtr[:2], "seven")
    with pytest.raises(ValueError, match="continuous"):
        VAE(**FAST).fit(Xtr[:50], Xtr[:50, 20] + 0.5)


def test_a_diverging_fit_leaves_the_model_as_it_was(small_vae, digits):
    Xtr = digits[0]
    before = {k: v.clone() for k, v in small_vae.module_.state_dict().items()}
    scores = small_vae.score_samples(Xtr[:20])
    with pytest.raises(FloatingPointError, match="lower lr"):
        small_vae.set_params(lr=1e6).fit(Xtr)
    small_vae.set_params(lr=1e-3)
    after = small_vae.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    np.testing.assert_array_equal(small_vae.score_samples(Xtr[:20]), scores)


def test_early_stopping_and_warm_start(digits):
    Xtr = digits[0]
    vae = VAE(
        latent_dim=4,
        hidden_layer_sizes=(32,),
        max_epochs=200,
        early_stopping=True,
        n_iter_no_change=3,
        tol=0.0,
        lr=1e-2,
        **FAST,
    ).fit(Xtr)
    assert vae.n_iter_ < 200 and "valid_loss" in vae.history_[-1]
    short = VAE(latent_dim=4, hidden_layer_sizes=(32,), max_epochs=3, **FAST).fit(Xtr)
    end = short.history_[-1]["train_loss"]
    short.set_params(warm_start=True).fit(Xtr)
    assert short.history_[-1]["train_loss"] < end


def test_conditional_false_ignores_the_labels_a_pipeline_passes():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = np.arange(60) % 3
    kw = dict(latent_dim=2, hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    ignored = VAE(conditional=False, **kw).fit(X, y)
    plain = VAE(**kw).fit(X)
    assert ignored.classes_ is None
    np.testing.assert_array_equal(ignored.transform(X), plain.transform(X))
    # In a pipeline, the VAE step equals the unsupervised fit.
    pipe = make_pipeline(VAE(conditional=False, **kw), LogisticRegression()).fit(X, y)
    np.testing.assert_array_equal(pipe[0].transform(X), plain.transform(X))
    assert VAE(**kw).fit(X, y).classes_.tolist() == [0, 1, 2]
