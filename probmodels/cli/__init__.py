"""Command line: ``probmodels fit | sample | score | impute | forecast | predict | info | demo``.

The model commands (``cli/_commands.py``) work on CSV or Parquet data files
(``cli/_tables.py``) and ``.skops`` model files. The demo (``cli/_demo.py``)
fits the library's models on bundled data and prints what a user would look
at first. Each command imports only what it needs, so the command line
starts fast. ``python -m probmodels.cli`` runs it too (``cli/__main__.py``).

Bad input ends in one line on stderr and exit status 2, never a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

__all__ = ["build_parser", "main", "run"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``probmodels`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    from ._arguments import MAX_DEMO_STEPS, whole_number
    from ._commands import add_model_commands
    from ._demo import run_demo

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
        type=whole_number(MAX_DEMO_STEPS, of="steps"),
        default=10,
        help=f"forecast horizon, 1 to {MAX_DEMO_STEPS} (default: 10)",
    )
    demo.set_defaults(func=run_demo)
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
    except MemoryError:
        if args.debug:
            raise
        print(
            f"probmodels {args.command}: error: not enough memory for what was "
            "asked; ask for fewer rows, steps or paths at a time.",
            file=sys.stderr,
        )
        return 2
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
    from ..engine import end_started_group

    if end_started_group():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line on stderr, without the source line they came from."""
    text = " ".join(str(message).split())
    print(f"warning: {category.__name__}: {text}", file=file or sys.stderr)
