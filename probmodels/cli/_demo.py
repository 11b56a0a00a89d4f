"""``probmodels demo``: the library's models on bundled data, as a user would start.

AR on yearly sunspots, a Gaussian mixture on iris, a classifier on
breast_cancer, a VAE on digits: each prints what a user would look at first.
"""

from __future__ import annotations

import warnings

__all__ = ["run_demo"]


def _demo_ar(steps: int) -> None:
    """AR on yearly sunspots: order by BIC, then a forecast with intervals."""
    import pandas as pd

    from ..datasets import load_sunspots
    from ..timeseries import ARRegressor

    y = load_sunspots()
    est = ARRegressor(p=15, ic="bic", random_state=0).fit(y)
    print(f"ARRegressor on yearly sunspots {y.index[0]}-{y.index[-1]} (n={len(y)})")
    print(f"  order chosen by BIC among 0..15: p = {est.p_}")
    print(f"  intercept = {est.intercept_:.3f}, sigma2 = {est.sigma2_:.2f}")
    print("  phi =", " ".join(f"{c:+.3f}" for c in est.coef_))
    print(
        f"  log-likelihood = {est.llf_:.2f}, AIC = {est.aic_:.2f}, BIC = {est.bic_:.2f}"
    )
    mean, lower, upper = est.forecast(steps, alpha=0.05)
    paths = est.sample(steps, n_paths=2000)
    table = pd.DataFrame(
        {
            "forecast": mean,
            "lower 95%": lower,
            "upper 95%": upper,
            "sampled 2.5%": paths.quantile(0.025, axis=1),
            "sampled 97.5%": paths.quantile(0.975, axis=1),
        }
    )
    print(f"\nForecast of the next {steps} years (2,000 simulated paths beside it):")
    print(table.round(1).to_string())


def _demo_gmm() -> None:
    """Gaussian mixture on iris: components by BIC, sampled flowers."""
    import numpy as np
    from sklearn.datasets import load_iris

    from ..mixture import GaussianMixture

    X = load_iris(as_frame=True).data
    print(
        f"GaussianMixture on iris ({len(X)} flowers, {X.shape[1]} measurements in cm)"
    )
    fits = {k: GaussianMixture(k, n_init=3, random_state=0).fit(X) for k in range(1, 7)}
    bic = {k: m.bic(X) for k, m in fits.items()}
    best = min(bic, key=bic.get)
    print("  BIC by n_components:", "  ".join(f"{k}: {v:.1f}" for k, v in bic.items()))
    gm = fits[best]
    print(f"  chosen: n_components = {best}, weights = {np.round(gm.weights_, 3)}")
    print(f"  mean log-likelihood = {gm.score(X):.3f} nats per flower")
    print("\nFive flowers sampled from it (a DataFrame with iris's columns):")
    print(gm.sample(5, random_state=0).round(2).to_string())


def _demo_classifier() -> None:
    """A feed-forward classifier on breast_cancer, in a scaling pipeline."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..classifiers import FFNClassifier

    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target_names[data.target], stratify=data.target, random_state=0
    )
    clf = FFNClassifier((64,), normalization="batch", max_epochs=40, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X_train, y_train)
    model = pipe[-1]
    print(
        f"FFNClassifier on breast_cancer ({len(X_train)} training rows, "
        f"{X_train.shape[1]} features), batch norm, device {model.device_}"
    )
    print(
        f"  {model.n_iter_} epochs, final training loss {model.history_[-1]['train_loss']:.4f}"
    )
    print(
        f"  test accuracy {pipe.score(X_test, y_test):.4f}; classes {model.classes_.tolist()}"
    )


def _demo_vae() -> None:
    """A VAE on dequantised digits: held-out bounds beside a Gaussian mixture."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from ..generative import VAE
    from ..mixture import GaussianMixture

    X, y = load_digits(return_X_y=True)
    # Uniform noise makes the integer pixels a continuous density.
    X = X + np.random.default_rng(0).uniform(size=X.shape)
    X_train, X_test = train_test_split(X, test_size=0.3, stratify=y, random_state=0)
    vae = VAE(latent_dim=8, hidden_layer_sizes=(256,), random_state=0).fit(X_train)
    elbo = vae.score(X_test)
    iwae = vae.set_params(n_importance=100).score(X_test)
    gm = GaussianMixture(10, covariance_type="diag", random_state=0).fit(X_train)
    print(
        f"VAE on digits + U(0,1) noise ({len(X_train)} training images, "
        f"{X.shape[1]} pixels), latent_dim 8, device {vae.device_}"
    )
    print(f"  held-out ELBO {elbo:.2f}, IWAE (K=100) {iwae:.2f} nats per image")
    print(f"  GaussianMixture(10, diag) exact: {gm.score(X_test):.2f} nats per image")
    first_row = np.round(vae.sample(1, mean=True, random_state=0)[0, :8], 1)
    print(f"  top pixel row of a new image (decoder mean): {first_row}")


def run_demo(args) -> int:
    """``probmodels demo``: each model on bundled data, as a user would start."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        _demo_ar(args.steps)
        print()
        _demo_gmm()
        print()
        _demo_classifier()
        print()
        _demo_vae()
    return 0
