"""``python -m probmodels``: the ``probmodels`` command."""

from .cli import run

run()
