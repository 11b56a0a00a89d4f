"""The command line's model commands: fit, sample, score, impute, forecast, predict, info.

Each reads data files (:mod:`probmodels.cli._tables`) and model files
(:mod:`probmodels._persistence`); ``probmodels.cli`` turns their errors into
one line on stderr.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import pandas as pd

from ._arguments import (
    MAX_ROWS,
    MAX_STEPS,
    add_data_options,
    add_future_options,
    add_long_table_options,
    add_model_file,
    alpha,
    whole_number,
)

__all__ = ["MODELS", "add_model_commands", "parse_params"]

#: Short names on the command line, and where each class lives.
MODELS = {
    "ar": ("probmodels.timeseries", "ARRegressor"),
    "gmm": ("probmodels.mixture", "GaussianMixture"),
    "vae": ("probmodels.generative", "VAE"),
    "ddpm": ("probmodels.diffusion", "DDPM"),
    "ffn": ("probmodels.classifiers", "FFNClassifier"),
    "transformer": ("probmodels.classifiers", "TransformerClassifier"),
}


_ROWS = whole_number(MAX_ROWS, why=": run the command several times for more")
_STEPS = whole_number(MAX_STEPS, why=": run the command several times for more")


class CommandError(ValueError):
    """A command cannot do what was asked (the message says why)."""


def model_class(name: str):
    """The estimator class for a short name or a class name (any case)."""
    import importlib

    wanted = name.lower()
    for short, (module, cls) in MODELS.items():
        if wanted in (short, cls.lower()):
            return getattr(importlib.import_module(module), cls)
    names = ", ".join(MODELS) + " or " + ", ".join(c for _, c in MODELS.values())
    raise CommandError(f"unknown model {name!r}; use one of {names}.")


def parse_params(items: list[str]) -> dict:
    """``key=value`` strings to a dict; values are Python literals when they parse.

    ``n_components=3`` gives 3, ``hidden_layer_sizes=(64,64)`` a tuple, and
    ``covariance_type=diag`` the string "diag". The estimator validates them.

    Parameters
    ----------
    items : list of str

    Returns
    -------
    dict
    """
    params = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--param expects key=value, got {item!r}.")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare word: a string option
        params[key.strip()] = value
    return params


def _load(args) -> Any:
    from .._persistence import read_model_file

    return read_model_file(args.model, trust_pickle=args.trust_pickle)


def _read(args, est=None):
    """The data file of a command; for a saved model, the columns it was fitted on."""
    from ._tables import read_table

    columns = getattr(args, "columns", None)
    if columns is not None:
        columns = [c for c in columns.split(",") if c]
        if not columns:
            raise CommandError(
                "--columns names no column; list the columns to use (a,b,c), "
                "or leave it out to use them all."
            )
    fitted = getattr(est, "feature_names_in_", None)
    if columns is None and fitted is not None:
        columns = [str(c) for c in fitted]
    target = getattr(args, "target", None)
    if columns is not None and target is not None and target not in columns:
        columns = [*columns, target]
    dates = getattr(args, "dates", None)
    dates = [c for c in dates.split(",") if c] if dates else None
    return read_table(
        args.data, columns=columns, time_index=args.time_index, dates=dates
    )


def _split_target(frame: pd.DataFrame, target: str | None):
    if target is None:
        return frame, None
    if target not in frame.columns:
        raise CommandError(
            f"no column {target!r} for --target; the columns are {list(frame.columns)}."
        )
    return frame.drop(columns=[target]), frame[target].to_numpy()


def _emit(frame: pd.DataFrame, output: str | None, what: str) -> None:
    """Write ``frame`` to ``output`` (CSV or Parquet), or print it as CSV."""
    from ._tables import write_table

    if output is None:
        print(frame.to_csv(index=_has_labels(frame.index)), end="")
    else:
        write_table(frame, output)
        print(f"wrote {what} to {output}")


def _has_labels(index: pd.Index) -> bool:
    """Whether an index says something (dates, names), unlike 0, 1, 2, ..."""
    return not isinstance(index, pd.RangeIndex)


def _as_frame(values: Any, columns=None) -> pd.DataFrame:
    if isinstance(values, pd.DataFrame):
        return values
    if isinstance(values, pd.Series):
        return values.to_frame()
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    return pd.DataFrame(values, columns=columns)


# ------------------------------------------------------------------ commands
def add_fit(sub, parents) -> None:
    """``probmodels fit MODEL DATA -o FILE``."""
    fit = sub.add_parser(
        "fit", parents=parents, help="fit a model to a data file and save it"
    )
    fit.add_argument(
        "model_name", metavar="MODEL", help=", ".join(MODELS) + " or a class name"
    )
    add_data_options(fit)
    add_long_table_options(fit)
    fit.add_argument(
        "-o", "--output", required=True, help="model file to write (.skops)"
    )
    fit.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of the model (repeatable)",
    )
    fit.set_defaults(func=cmd_fit)


def cmd_fit(args) -> int:
    from .._persistence import save
    from ..engine import is_main_process

    cls = model_class(args.model_name)
    est = cls()
    params = parse_params(args.param)
    if isinstance(params.get("exog"), str):  # exog=holiday,price names columns
        params["exog"] = [c for c in params["exog"].split(",") if c]
    long_table = args.id_col is not None or args.time_col is not None
    if long_table:
        if "id_col" not in est.get_params() or None in (args.id_col, args.time_col):
            raise CommandError(
                "--id-col and --time-col go together, and only with a time-series "
                f"model (ar); got {cls.__name__} with --id-col {args.id_col} and "
                f"--time-col {args.time_col}."
            )
        params.update(id_col=args.id_col, time_col=args.time_col)
    est.set_params(**params)  # sklearn names unknown parameters and the valid ones
    if "verbose" in est.get_params() and "verbose" not in params and _is_neural(est):
        est.set_params(verbose=0 if args.quiet else 1)  # a tqdm bar on stderr
    frame = _read(args)
    if long_table:
        frame = _long_times(frame, args.time_col)
    X, y = _split_target(frame, args.target)
    if _needs_target(est) and y is None:
        raise CommandError(
            f"{cls.__name__} needs labels: name their column with --target."
        )
    if y is not None and not _takes_labels(est):
        raise CommandError(
            f"{cls.__name__} takes no labels, so --target would be ignored; "
            "drop it (or list the column among --columns to model it)."
        )
    est.fit(X) if y is None else est.fit(X, y)
    metadata = {
        "data": str(args.data),
        "rows": int(len(X)),
        "columns": [str(c) for c in X.columns],
        "target": args.target,
        "index": _describe_index(X.index),
    }
    if not is_main_process():
        return 0  # under torchrun every process fits; rank 0 alone writes
    save(est, args.output, metadata=metadata)
    print(
        f"fitted {cls.__name__} on {len(X)} rows of {args.data}; saved to {args.output}"
    )
    return 0


def add_sample(sub, parents) -> None:
    """``probmodels sample FILE -n N``."""
    sample = sub.add_parser(
        "sample", parents=parents, help="draw new rows from a saved model"
    )
    add_model_file(sample)
    sample.add_argument(
        "-n", type=_ROWS, required=True, help=f"rows to draw (at most {MAX_ROWS:,})"
    )
    sample.add_argument("-o", "--output", help=".csv or .parquet (default: stdout)")
    sample.add_argument("--seed", type=int, help="makes the draw repeatable")
    sample.add_argument("--y", help="the label to draw (conditional models)")
    sample.add_argument(
        "--paths", type=_STEPS, help=f"simulated paths (ar; at most {MAX_STEPS:,})"
    )
    sample.add_argument(
        "--given",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="a value the column takes in every row; the rest is drawn from the "
        "conditional (gmm exactly, vae and ddpm approximately; repeatable)",
    )
    add_future_options(sample)
    sample.set_defaults(func=cmd_sample)


def cmd_sample(args) -> int:
    est = _load(args).estimator
    kwargs = {"random_state": args.seed}
    if args.paths is not None:
        _require(est, "n_paths", "--paths", "a time-series model (ar)")
        kwargs["n_paths"] = args.paths
    if args.y is not None:
        _require(est, "y", "--y", "a model fitted with labels (vae, ddpm)")
        kwargs["y"] = _label_like(est, args.y)
    if args.exog is not None:
        _require(est, "exog", "--exog", "a time-series model (ar)")
        kwargs["exog"] = _future_exog(args, est)
    if args.given:
        what = "a generative model of a table (gmm, vae, ddpm)"
        _require(est, "given", "--given", what)
        kwargs["given"] = _given_values(est, args.given)
    samples = est.sample(args.n, **kwargs)
    _emit(_as_frame(samples, _feature_names(est)), args.output, f"{args.n} samples")
    return 0


def add_score(sub, parents) -> None:
    """``probmodels score FILE DATA``."""
    score = sub.add_parser(
        "score", parents=parents, help="mean log-likelihood of a data file"
    )
    add_model_file(score)
    add_data_options(score)
    score.add_argument("-o", "--output", help="per-row log-likelihoods (.csv/.parquet)")
    score.set_defaults(func=cmd_score)


def cmd_score(args) -> int:
    file = _load(args)
    est = file.estimator
    frame = _read(args, est)
    X, y = _split_target(frame, getattr(args, "target", None))
    if hasattr(est, "score_samples"):
        if y is not None and getattr(est, "classes_", None) is None:
            raise CommandError(
                f"this {type(est).__name__} was fitted without labels, so "
                "--target would be ignored; drop it."
            )
        # A conditional model scores each row under its own label.
        per_row = est.score_samples(X) if y is None else est.score_samples(X, y)
        mean = float(np.nanmean(per_row))
        print(f"mean log-likelihood: {mean:.6g} nats per row ({len(X)} rows)")
        if args.output:
            _emit(_as_frame(per_row, ["log_likelihood"]), args.output, "per-row scores")
        return 0
    if y is None:
        raise CommandError(
            f"{type(est).__name__} is a classifier: score it on labelled data with "
            "--target (accuracy), or use predict."
        )
    print(f"accuracy: {est.score(X, y):.6g} ({len(X)} rows)")
    return 0


def add_impute(sub, parents) -> None:
    """``probmodels impute FILE DATA``."""
    impute = sub.add_parser(
        "impute",
        parents=parents,
        help="fill the missing entries of a data file from a saved model",
    )
    add_model_file(impute)
    add_data_options(impute, target=False)
    impute.add_argument("-o", "--output", help=".csv or .parquet (default: stdout)")
    impute.add_argument(
        "--method",
        choices=["mean", "draw"],
        default="mean",
        help="the conditional mean (default) or a draw from the conditional",
    )
    impute.add_argument("--seed", type=int, help="makes --method draw repeatable")
    impute.set_defaults(func=cmd_impute)


def cmd_impute(args) -> int:
    est = _load(args).estimator
    if not hasattr(est, "impute"):
        raise CommandError(
            "impute needs a model that fills missing values (gmm, vae, ddpm); "
            f"{args.model} holds a {type(est).__name__}."
        )
    frame = _read(args, est)
    filled = est.impute(frame, method=args.method, random_state=args.seed)
    missing = int(frame.isna().to_numpy().sum())
    what = f"{len(frame)} rows ({missing} entries filled)"
    _emit(_as_frame(filled), args.output, what)
    return 0


def add_forecast(sub, parents) -> None:
    """``probmodels forecast FILE --steps H``."""
    forecast = sub.add_parser(
        "forecast", parents=parents, help="forecast a saved time-series model"
    )
    add_model_file(forecast)
    forecast.add_argument(
        "--steps", type=_STEPS, required=True, help=f"horizon (at most {MAX_STEPS:,})"
    )
    forecast.add_argument(
        "--alpha", type=alpha, default=0.05, help="1 - interval level"
    )
    forecast.add_argument("-o", "--output", help=".csv or .parquet (default: stdout)")
    add_future_options(forecast)
    forecast.set_defaults(func=cmd_forecast)


def cmd_forecast(args) -> int:
    est = _load(args).estimator
    if not hasattr(est, "forecast"):
        raise CommandError(
            f"forecast needs a time-series model (ar); {args.model} holds a "
            f"{type(est).__name__}."
        )
    kwargs = {} if args.exog is None else {"exog": _future_exog(args, est)}
    result = est.forecast(args.steps, alpha=args.alpha, **kwargs)
    if isinstance(result, pd.DataFrame):  # many series: a long table already
        _emit(result, args.output, f"a {args.steps}-step forecast")
        return 0
    parts = {"mean": result.mean, "lower": result.lower, "upper": result.upper}
    frames = []
    for stat, values in parts.items():
        part = _as_frame(values)
        part.columns = [
            f"{c}_{stat}" if part.shape[1] > 1 else stat for c in part.columns
        ]
        frames.append(part)
    _emit(pd.concat(frames, axis=1), args.output, f"a {args.steps}-step forecast")
    return 0


def _future_exog(args, est=None) -> pd.DataFrame:
    """The ``--exog`` file (dates from ``--time-index``); the model picks its columns.

    For a model of a long table, the file is a long table too (its id and
    time columns, then the regressors).
    """
    from ._tables import read_table

    panel = getattr(est, "_panel", None)
    if panel is not None:
        return _long_times(read_table(args.exog), panel.columns["time"])
    return read_table(args.exog, time_index=args.time_index)


def _long_times(frame: pd.DataFrame, time_col: str) -> pd.DataFrame:
    """A long table's time column as dates, unless it holds ints (steps)."""
    if time_col not in frame.columns:
        raise CommandError(
            f"no column {time_col!r} for --time-col; the columns are {list(frame.columns)}."
        )
    times = frame[time_col]
    if not pd.api.types.is_integer_dtype(times) and not pd.api.types.is_datetime64_any_dtype(
        times
    ):
        try:
            frame = frame.assign(**{time_col: pd.to_datetime(times)})
        except (ValueError, TypeError) as err:
            raise CommandError(
                f"Column {time_col!r} holds neither dates nor integer steps ({err})."
            ) from None
    return frame


def add_predict(sub, parents) -> None:
    """``probmodels predict FILE DATA``."""
    predict = sub.add_parser(
        "predict", parents=parents, help="predictions of a saved model"
    )
    add_model_file(predict)
    add_data_options(predict)
    predict.add_argument("-o", "--output", help=".csv or .parquet (default: stdout)")
    predict.set_defaults(func=cmd_predict)


def cmd_predict(args) -> int:
    est = _load(args).estimator
    if not hasattr(est, "predict"):
        raise CommandError(
            f"{type(est).__name__} does not predict; use sample or score."
        )
    frame = _read(args, est)
    X = frame.drop(columns=[args.target]) if args.target in frame.columns else frame
    predictions = est.predict(X)
    out = _as_frame(predictions, ["prediction"])
    if isinstance(X, pd.DataFrame) and not isinstance(
        predictions, (pd.Series, pd.DataFrame)
    ):
        out.index = X.index
    _emit(out, args.output, "predictions")
    return 0


def add_info(sub, parents) -> None:
    """``probmodels info FILE``."""
    info = sub.add_parser("info", parents=parents, help="what a model file holds")
    add_model_file(info)
    info.set_defaults(func=cmd_info)


def cmd_info(args) -> int:
    file = _load(args)
    est = file.estimator
    print(f"model: {type(est).__name__}")
    print("parameters:")
    for name, value in sorted(est.get_params(deep=False).items()):
        print(f"  {name} = {value!r}")
    fitted = hasattr(est, "n_features_in_")
    print(f"fitted: {'yes' if fitted else 'no'}")
    meta = file.metadata
    if meta:
        print("fitted on:")
        for key in ("data", "rows", "columns", "target", "index"):
            if meta.get(key) is not None:
                print(f"  {key}: {meta[key]}")
    elif fitted:
        names = getattr(est, "feature_names_in_", None)
        print(
            f"  {est.n_features_in_} features"
            + (f": {list(names)}" if names is not None else "")
        )
    print("saved with: " + ", ".join(f"{k} {v}" for k, v in file.versions.items() if v))
    return 0


# ------------------------------------------------------------------ helpers
def _is_neural(est) -> bool:
    return "max_epochs" in est.get_params()


def _needs_target(est) -> bool:
    from sklearn.base import is_classifier

    return is_classifier(est)


def _takes_labels(est) -> bool:
    """Classifiers, and the VAE and DDPM, which condition on labels."""
    from ..nn import NeuralGenerativeMixin

    conditional = isinstance(est, NeuralGenerativeMixin)
    return _needs_target(est) or (conditional and getattr(est, "conditional", True))


def _require(est, keyword: str, flag: str, what: str) -> None:
    import inspect

    if keyword not in inspect.signature(est.sample).parameters:
        raise CommandError(
            f"{flag} needs {what}; this file holds a {type(est).__name__}."
        )


def _label_like(est, text: str):
    """A label from the command line, as the type of the fitted classes."""
    classes = getattr(est, "classes_", None)
    if classes is None:
        raise CommandError("--y needs a model fitted with labels; this one has none.")
    for label in classes:
        if str(label) == text:
            return label
    raise CommandError(
        f"--y {text!r} is not a fitted label; the labels are {list(classes)}."
    )


def _given_values(est, items: list[str]) -> dict:
    """``--given column=value`` items as a dict, each value in its column's kind."""
    from ..base import fitted_column_types

    types = fitted_column_types(est)
    names = [str(name) for name in types.names]
    columns = dict(zip(names, zip(types.names, types.columns, strict=True), strict=True))
    given = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CommandError(f"--given expects column=value, got {item!r}.")
        if name not in columns:
            raise CommandError(
                f"--given names {name!r}, which is not a fitted column; the columns "
                f"are {names}."
            )
        key, column = columns[name]
        if key in given:
            raise CommandError(
                f"--given names {name!r} twice: give each column one value."
            )
        try:
            given[key] = column.parse(text, name)
        except ValueError as err:
            raise CommandError(f"--given {name}={text}: {err}") from None
    return given


def _feature_names(est):
    names = getattr(est, "feature_names_in_", None)
    return None if names is None else list(names)


def _describe_index(index: pd.Index) -> str | None:
    if isinstance(index, pd.RangeIndex):
        return None
    return f"{type(index).__name__} from {index[0]} to {index[-1]}"


#: The most rows ``sample -n`` draws, and the longest horizon of ``forecast


#: Each command's parser, in the order ``probmodels --help`` lists them.
COMMANDS = (add_fit, add_sample, add_impute, add_score, add_forecast, add_predict, add_info)


def add_model_commands(sub, parents=()) -> None:
    """Add fit, sample, score, impute, forecast, predict and info to a subparsers object.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    parents : sequence of argparse.ArgumentParser
        Options every command shares (``--debug``, ``--quiet``).
    """
    for add in COMMANDS:
        add(sub, list(parents))
