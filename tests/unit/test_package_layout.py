"""The orchestration package: installable, imports flowing one way, no cycle.

The import graph is read from the source with :mod:`ast` (every ``import`` and
``from … import`` of an ``orchestration`` module, at module level or inside a function), so a
cycle hidden in a lazy import counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "orchestration"

#: Layers, lowest first: a module may import its own layer and those before it, never after.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("orchestration.settings", "orchestration.months", "orchestration.landing.contract"),
    ("orchestration.warehouse", "orchestration.landing", "orchestration.demo"),
    ("orchestration.scoring",),
    ("orchestration.reports",),
    ("orchestration.defs",),
    ("orchestration.commands",),
    ("orchestration.benchmark",),
)

#: Only the Dagster code location and the commands that launch it may import Dagster.
DAGSTER_FREE = ("settings", "months", "landing", "warehouse", "demo", "scoring", "reports")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The orchestration modules ``path`` imports (``from pkg import module`` resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules and name != "orchestration"}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def _layer(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} belongs to no layer of LAYERS: add it")


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_import_graph_has_no_cycle():
    graph = _graph()
    assert len(graph) > 30, "the package was not found"
    assert _find_cycle(graph) is None


def test_imports_flow_one_way_through_the_layers():
    backwards = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert backwards == []


@pytest.mark.parametrize("package", DAGSTER_FREE)
def test_only_the_code_location_imports_dagster(package):
    root = PACKAGE_DIR / package
    paths = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
    importers = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] in {"dagster", "dagster_dbt"} for name in names):
                importers.append(str(path.relative_to(PACKAGE_DIR)))
    assert importers == []


def test_package_imports_from_any_folder(tmp_path):
    # Installed into the environment (editable), not found through the working directory.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import orchestration.scoring, orchestration.landing.contract; "
            "print(orchestration.scoring.__name__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "orchestration.scoring"
