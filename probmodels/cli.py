"""Command line: ``probmodels fit | sample | score | forecast | predict | info | demo``.

The model commands (in :mod:`probmodels._commands`) work on CSV or Parquet
data files and ``.skops`` model files. The demo fits the library's models on
bundled data and prints what a user would look at first. Each command imports
only what it needs, so the command line starts fast.

Bad input ends in one line on stderr and exit status 2, never a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

__all__ = ["main"]


def _demo_ar(steps: int) -> None:
    """AR on yearly sunspots: order by BIC, then a forecast with intervals."""
    import pandas as pd

    from .datasets import load_sunspots
    from .timeseries import ARRegressor

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

    from .mixture import GaussianMixture

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

    from .classifiers import FFNClassifier

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

    from .generative import VAE
    from .mixture import GaussianMixture

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


def _cmd_demo(args: argparse.Namespace) -> int:
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


#: The demo's horizon bound: 2,000 simulated paths of this many years stay
#: well under a gigabyte, and a forecast centuries out says nothing anyway.
MAX_DEMO_STEPS = 1000


def _steps(text: str) -> int:
    """A forecast horizon from 1 to MAX_DEMO_STEPS, with a message that says so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of steps, got {text!r}"
        ) from None
    if not 1 <= value <= MAX_DEMO_STEPS:
        raise argparse.ArgumentTypeError(
            f"must be at least 1 and at most {MAX_DEMO_STEPS}, got {value}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``probmodels`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    from ._commands import add_model_commands

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", help="show the traceback of an error"
    )
    common.add_argument(
        "--quiet", action="store_true", help="no progress bars or warnings"
    )
    parser = argparse.ArgumentParser(
        prog="probmodels",
        description="Probabilistic models behind one scikit-learn contract.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add_model_commands(sub, parents=[common])
    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="fit the models on bundled data and print the results",
    )
    demo.add_argument(
        "--steps",
        type=_steps,
        default=10,
        help=f"forecast horizon, 1 to {MAX_DEMO_STEPS} (default: 10)",
    )
    demo.set_defaults(func=_cmd_demo)
    return parser


#: What a command may raise for bad input: each becomes one line on stderr.
USER_ERRORS = (ValueError, TypeError, OSError, KeyError, ArithmeticError)


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for bad input (as argparse uses).
    """
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore")
            warnings.showwarning = _one_line_warning
            return args.func(args)
    except BrokenPipeError:
        # The reader left (``probmodels demo | head -1``): stop without a
        # traceback, with the status the Python docs suggest (the "Note on
        # SIGPIPE" of the signal module). stdout is pointed at devnull so
        # that Python's own flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except USER_ERRORS as err:
        if args.debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        if isinstance(err, KeyError):
            message = f"missing key {message}"
        print(f"probmodels {args.command}: error: {message}", file=sys.stderr)
        return 2


def run() -> None:
    """The ``probmodels`` console script: :func:`main`, then exit.

    Under ``torchrun`` a fit starts the process group; it is ended here and
    the process leaves at once, skipping the interpreter's teardown, in
    which torch 2.13 with gloo sometimes aborts a process whose work is done
    ("terminate called without an active exception", seen with a bare torch
    training loop too).
    """
    code = main()
    from .nn._distributed import end_started_group

    if end_started_group():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line on stderr, without the source line they came from."""
    text = " ".join(str(message).split())
    print(f"warning: {category.__name__}: {text}", file=file or sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    run()
