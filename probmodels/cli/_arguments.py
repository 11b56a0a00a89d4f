"""What the commands' arguments may be: bounded numbers and shared options.

One parser per kind of value, each with a message that says what it expects
(argparse prints it after the option's name), and the option groups that
several commands share.
"""

from __future__ import annotations

import argparse

__all__ = [
    "MAX_DEMO_STEPS",
    "MAX_ROWS",
    "MAX_STEPS",
    "add_data_options",
    "add_future_options",
    "add_model_file",
    "alpha",
    "whole_number",
]

#: ``-n`` and most paths of ``--paths``, and ``--steps``: beyond them a single
#: command asks for more memory than a machine has (10^7 rows of 100 columns
#: are 8 GB), and would end in a MemoryError deep in numpy.
MAX_ROWS = 10_000_000
MAX_STEPS = 100_000
#: The demo's horizon bound: 2,000 simulated paths of this many years stay
#: well under a gigabyte, and a forecast centuries out says nothing anyway.
MAX_DEMO_STEPS = 1_000


def whole_number(most: int, of: str = "", why: str = ""):
    """The parser of a whole number from 1 to ``most``.

    Parameters
    ----------
    most : int
        The largest value accepted.
    of : str, optional
        What is counted ("steps"), for the messages.
    why : str, optional
        Said after a value above ``most``.

    Returns
    -------
    callable
        ``parse(text) -> int``, raising ``argparse.ArgumentTypeError``.
    """
    counted = f" of {of}" if of else ""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number{counted}, got {text!r}"
            ) from None
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(
                f"must be at least 1 and at most {most:,}, got {value:,}"
                + (why if value > most else "")
            )
        return value

    parse.__name__ = f"whole number{counted}"  # argparse names the type so
    return parse


def alpha(text: str) -> float:
    """A number in (0, 1): one minus an interval's level.

    Parameters
    ----------
    text : str

    Returns
    -------
    float
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number in (0, 1), got {text!r}"
        ) from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {value}")
    return value


def add_data_options(parser, target: bool = True) -> None:
    """The data file and how to read it (fit, score, impute, predict).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    target : bool, default=True
        Whether the command takes ``--target``.
    """
    parser.add_argument("data", help="a .csv or .parquet file")
    parser.add_argument("--columns", help="comma-separated columns to use")
    parser.add_argument("--time-index", help="a column of dates to use as the index")
    parser.add_argument(
        "--dates", help="comma-separated columns to read as dates (not text)"
    )
    if target:
        parser.add_argument("--target", help="the column of labels")


def add_long_table_options(parser) -> None:
    """The columns of a long table of many series (ar: ``fit``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument(
        "--id-col",
        help="ar on a long table, a row per (series, time): the column of series "
        "ids (the values' column is y, or -p target_col=NAME)",
    )
    parser.add_argument(
        "--time-col", help="ar on a long table: the column of times (dates or ints)"
    )


def add_future_options(parser) -> None:
    """The regressors' future rows of a time-series model (sample, forecast).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument(
        "--exog",
        metavar="FILE",
        help="the regressors' future rows (ar fitted with exog): a .csv or "
        ".parquet with their columns, one row per step",
    )
    parser.add_argument(
        "--time-index", help="a column of dates in the --exog file to use as index"
    )


def add_model_file(parser) -> None:
    """The model file a command reads.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("model", help="a model file (.skops)")
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow .pkl/.joblib files, which run code when loaded",
    )
