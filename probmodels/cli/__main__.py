"""``python -m probmodels.cli``: the ``probmodels`` command."""

from . import run

run()
