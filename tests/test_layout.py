"""The package's layout: no import cycles, no import that runs upward.

Every import statement of every module (at the top, inside functions, under
``TYPE_CHECKING``) is read with ``ast`` and resolved to the module it loads;
``docs/architecture.md`` ("Floors") describes the floors checked here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "probmodels"

#: Bottom up. A module may import its own floor and the floors below, and a
#: model family only itself among the families.
FLOORS = [
    ("utilities", ["utils", "exceptions", "datasets"]),
    ("columns and the contract", ["columns", "_conditioning", "base"]),
    ("engine", ["engine"]),
    ("estimator side of torch", ["nn"]),
    (
        "model families",
        ["timeseries", "mixture", "classifiers", "generative", "diffusion"],
    ),
    ("on the families", ["metrics", "_persistence", "impute"]),
    ("front door", ["cli", "__main__", ""]),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The probmodels modules that ``name`` imports, wherever the statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b`: b may be a module of a; else it is a name in a.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in known)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def floor_of(name: str) -> tuple[int, str]:
    rest = name.removeprefix("probmodels").lstrip(".")
    top = rest.split(".")[0]
    for level, (_, members) in enumerate(FLOORS):
        if top in members:
            return level, top
    raise AssertionError(f"{name} is on no floor: add it to FLOORS")


def test_the_graph_is_read():
    edges = graph()
    assert "probmodels.engine._trainer" in edges["probmodels.engine"]
    assert "probmodels.engine" in edges["probmodels.nn._base"]


def test_no_import_cycles():
    """Tarjan's strongly connected components: every one a single module."""
    edges = graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    assert cycles == []


def test_no_import_runs_upward_and_families_stay_apart():
    wrong = []
    for name, targets in graph().items():
        level, top = floor_of(name)
        for target in targets:
            their_level, their_top = floor_of(target)
            upward = their_level > level
            across = FLOORS[level][0] == "model families" and level == their_level
            across = across and their_top != top
            if upward or across:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_the_engine_knows_no_estimator():
    """The engine imports nothing of probmodels outside ``probmodels.engine``."""
    for name, targets in graph().items():
        if name.startswith("probmodels.engine"):
            outside = {t for t in targets if not t.startswith("probmodels.engine")}
            assert outside == set(), name
