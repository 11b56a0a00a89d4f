"""DDPM: the bound against exact densities, DDIM against ancestral sampling,
guidance, the UNet path, trajectories and bad input."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from probmodels import DDPM

FAST = dict(device="cpu", random_state=0)


@pytest.fixture(scope="module")
def gaussian():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    dist = stats.multivariate_normal([1.0, -2.0], cov)
    return dist, dist.rvs(2000, random_state=rng), dist.rvs(400, random_state=rng)


@pytest.fixture(scope="module")
def gaussian_ddpm(gaussian):
    _, X, _ = gaussian
    return DDPM(
        n_timesteps=100, hidden_layer_sizes=(64, 64), max_epochs=150, **FAST
    ).fit(X)


def test_bound_is_below_the_exact_log_density_and_close_to_it(gaussian, gaussian_ddpm):
    # E[bound] <= E[log p_model] <= E[log p_true] (Gibbs' inequality) on fresh
    # data: a bound above the exact density means a missing term or Jacobian.
    dist, _, Xte = gaussian
    gap = gaussian_ddpm.score_samples(Xte) - dist.logpdf(Xte)
    se = gap.std() / math.sqrt(len(gap))
    assert gap.mean() < 3 * se
    assert gap.mean() > -0.15, gap.mean()  # measured: -0.035 with a larger net


def test_stratified_bound_is_an_unbiased_estimate_of_the_full_sum(
    gaussian, gaussian_ddpm
):
    _, _, Xte = gaussian
    full = gaussian_ddpm.set_params(n_score_timesteps=None).score_samples(Xte)
    strata = gaussian_ddpm.set_params(n_score_timesteps=10).score_samples(Xte)
    gaussian_ddpm.set_params(n_score_timesteps=100)
    diff = strata - full
    assert abs(diff.mean()) < 4 * diff.std() / math.sqrt(len(diff)) + 1e-6


def test_samples_have_the_data_distribution(gaussian, gaussian_ddpm):
    dist, _, _ = gaussian
    S = gaussian_ddpm.sample(4000, random_state=0)
    np.testing.assert_allclose(S.mean(0), dist.mean, atol=0.1)
    np.testing.assert_allclose(np.cov(S.T), dist.cov, atol=0.15)


def test_ddim_with_eta_one_over_all_steps_matches_ancestral_sampling(gaussian_ddpm):
    # With every timestep and eta = 1, DDIM's step is the ancestral step with
    # variance beta_tilde (Song et al., 2021, eq. 16): the same distribution.
    gaussian_ddpm.set_params(variance_type="fixed_small", clip_denoised=False)
    a = gaussian_ddpm.sample(3000, random_state=1)
    b = gaussian_ddpm.sample(3000, n_steps=100, eta=1.0, random_state=2)
    gaussian_ddpm.set_params(variance_type="fixed_large", clip_denoised=True)
    for j in range(2):
        assert stats.ks_2samp(a[:, j], b[:, j]).pvalue > 1e-3
    # And deterministic DDIM (eta = 0) repeats from the same noise.
    c = gaussian_ddpm.sample(5, n_steps=20, eta=0.0, random_state=3)
    np.testing.assert_array_equal(
        c, gaussian_ddpm.sample(5, n_steps=20, eta=0.0, random_state=3)
    )


def test_ddim_timesteps_are_distinct_and_end_at_zero(gaussian_ddpm):
    # T (i/k)^2 for i = k..1 (Song et al., 2021, appendix D.2), then 0.
    quadratic = gaussian_ddpm._timesteps(10)
    np.testing.assert_array_equal(quadratic, [100, 81, 64, 49, 36, 25, 16, 9, 4, 1, 0])
    gaussian_ddpm.set_params(ddim_spacing="linear")
    np.testing.assert_array_equal(gaussian_ddpm._timesteps(4), [100, 75, 50, 25, 0])
    gaussian_ddpm.set_params(ddim_spacing="quadratic")
    every = gaussian_ddpm._timesteps(100)
    np.testing.assert_array_equal(every, np.arange(100, -1, -1))
    assert len(np.unique(gaussian_ddpm._timesteps(60))) == 61


def test_the_network_holds_the_schedule_as_buffers_computed_once(gaussian_ddpm):
    """One module: its state holds the denoiser's weights only (the schedule
    follows from the parameters), the buffers move and convert with it, and a
    sampler's timesteps are computed once per number of steps."""
    import copy

    from probmodels.diffusion import GaussianDiffusion
    from probmodels.diffusion.schedule import ddim_timesteps

    module = gaussian_ddpm.module_
    assert isinstance(module, GaussianDiffusion)
    assert gaussian_ddpm.schedule_ is module.schedule
    assert all(k.startswith("denoiser.") for k in module.state_dict())
    buffers = dict(module.named_buffers())
    assert buffers["schedule.alphas_cumprod"].dtype == torch.float64
    double = copy.deepcopy(module).to(torch.float64)
    assert next(double.parameters()).dtype == torch.float64
    np.testing.assert_array_equal(
        double.schedule.alphas_cumprod.numpy(), module.schedule.alphas_cumprod.numpy()
    )
    ddim_timesteps.cache_clear()
    for _ in range(3):
        gaussian_ddpm.sample(4, n_steps=7, random_state=0)
    info = ddim_timesteps.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    # Loss, samplers and bound are the network's: the estimator keeps no
    # schedule of its own and no temporary one after fit.
    assert {"schedule_", "_training_schedule"}.isdisjoint(vars(gaussian_ddpm))


def test_trajectory_runs_from_noise_to_the_sample(gaussian_ddpm):
    out, path = gaussian_ddpm.sample(
        7, n_steps=10, random_state=0, return_trajectory=True
    )
    assert path.shape == (11, 7, 2)
    np.testing.assert_allclose(path[-1], out)
    noise = (path[0] - gaussian_ddpm._scaler.mean) / gaussian_ddpm._scaler.scale
    assert abs(noise.std() - 1) < 0.6  # x_T is standard noise on the scaled axes


@pytest.fixture(scope="module")
def two_classes():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1500)
    X = rng.normal(size=(1500, 2)) * 0.5 + np.where(y[:, None] == 1, 2.0, -2.0)
    model = DDPM(
        n_timesteps=50,
        hidden_layer_sizes=(64, 64),
        max_epochs=150,
        cond_drop_prob=0.2,
        **FAST,
    )
    return model.fit(X, np.array(["left", "right"])[y])


def test_class_conditional_sampling_and_guidance(two_classes):
    left = two_classes.sample(500, y="left", random_state=0)
    right = two_classes.sample(500, y="right", random_state=0)
    assert left.mean() < -1.5 and right.mean() > 1.5
    # w = 0 is the conditional model as it is.
    np.testing.assert_array_equal(
        two_classes.sample(20, y="left", guidance_scale=0.0, random_state=4),
        two_classes.sample(20, y="left", random_state=4),
    )
    # The guided noise is (1 + w) eps(x, y) - w eps(x, null).
    module = two_classes.module_
    x, t = torch.randn(6, 2), torch.full((6,), 10)
    y = torch.tensor([0, 1, 0, 1, 0, 1])
    null = torch.full_like(y, 2)
    with torch.no_grad():
        expected = 3.0 * module(x, t, y) - 2.0 * module(x, t, null)
        torch.testing.assert_close(module.guided_eps(x, t, y, 2.0), expected)
    # Strong guidance pulls samples towards the class: fewer stray points.
    guided = two_classes.sample(500, y="left", guidance_scale=3.0, random_state=0)
    assert (guided[:, 0] > 0).mean() <= (left[:, 0] > 0).mean() + 0.01
    # Scores under the right label beat scores under the wrong one.
    rows = np.array([[-2.0, -2.0], [2.0, 2.0]])
    right_label = two_classes.score_samples(rows, ["left", "right"])
    wrong_label = two_classes.score_samples(rows, ["right", "left"])
    assert np.all(right_label > wrong_label)


def test_unet_on_images(tmp_path):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    for upsample in ("nearest", "transposed"):
        model = DDPM(
            n_timesteps=20,
            image_shape=(1, 8, 8),
            unet_channels=8,
            upsample=upsample,
            max_epochs=2,
            n_score_timesteps=4,
            **FAST,
        ).fit(X[:300], y[:300])
        assert type(model.module_.denoiser).__name__ == "UNet"
        assert model.sample(4, y=3, guidance_scale=1.0, n_steps=5).shape == (4, 64)
        assert np.isfinite(model.score_samples(X[300:310], y[300:310])).all()


def test_bad_input_gets_errors_that_name_the_fix(gaussian_ddpm, two_classes):
    with pytest.raises(ValueError, match="fitted without labels"):
        gaussian_ddpm.sample(2, y=1)
    with pytest.raises(
        ValueError, match="guidance_scale needs a model fitted with labels"
    ):
        gaussian_ddpm.sample(2, guidance_scale=2.0)
    with pytest.raises(ValueError, match=r"labels \['middle'\] that were not seen"):
        two_classes.sample(2, y="middle")
    with pytest.raises(ValueError, match="eta must be a finite number >= 0"):
        gaussian_ddpm.sample(2, n_steps=10, eta=-1.0)
    with pytest.raises(
        ValueError, match="n_steps=101 must be between 1 and n_timesteps=100"
    ):
        gaussian_ddpm.sample(2, n_steps=101)
    with pytest.raises(
        ValueError, match=r"image_shape=\(1, 8, 7\) does not match the 64"
    ):
        DDPM(image_shape=(1, 8, 7), **FAST).fit(np.zeros((10, 64)))
    with pytest.raises(ValueError, match="needs image_shape"):
        DDPM(denoiser="unet", **FAST).fit(np.zeros((10, 64)))
    bad = np.ones((20, 2))
    bad[3, 1] = np.inf  # NaN is a missing entry (test_ddpm_missing.py)
    with pytest.raises(ValueError, match="inf"):
        DDPM(**FAST).fit(bad)


def test_a_diverging_fit_leaves_the_model_as_it_was(gaussian, gaussian_ddpm):
    _, X, Xte = gaussian
    before = {k: v.clone() for k, v in gaussian_ddpm.module_.state_dict().items()}
    scores = gaussian_ddpm.score_samples(Xte[:10])
    with pytest.raises(FloatingPointError, match="lower lr"):
        gaussian_ddpm.set_params(lr=1e8, max_epochs=3).fit(X)
    gaussian_ddpm.set_params(lr=1e-3, max_epochs=200)
    after = gaussian_ddpm.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    np.testing.assert_array_equal(gaussian_ddpm.score_samples(Xte[:10]), scores)
