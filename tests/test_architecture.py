"""The package's import graph has no cycle, and every module imports cleanly on its own.

The graph is read from the source with ``ast``: every ``import``/``from ... import`` of an
``incident_impact`` module, at module level *and* inside functions (an import inside a function only
hides a cycle until the function runs). Imports under ``if TYPE_CHECKING:`` never run and are left
out. Importing ``a.b.c`` also runs the packages ``a`` and ``a.b``; those implicit parent imports are
not edges (a package's ``__init__`` importing its own modules is not a cycle).

The whole package is acyclic: a new cycle anywhere fails the test with its modules named.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "incident_impact"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE



def module_names() -> dict[str, Path]:
    """``incident_impact.x.y`` -> file, for every module and package of the source tree."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST):
    """Every Import / ImportFrom node, at any depth, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if _type_checking_block(child):
                stack.extend(child.orelse)  # type: ignore[attr-defined]
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``incident_impact`` modules it imports (module level and inside functions)."""
    modules = module_names()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                # "from pkg import sub" imports the module pkg.sub when there is one
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
            for target in targets:
                while target and target not in modules and "." in target:
                    target = target.rpartition(".")[0]  # "import a.b.c" of a non-module attribute
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def test_the_graph_reader_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert "incident_impact.eventstudy.windows" in graph["incident_impact.eventstudy.event"]
    assert "incident_impact.errors" in graph["incident_impact.eventstudy.windows"]
    # a function-level import counts (incident_impact/__init__.py imports lazily in __getattr__)
    assert "incident_impact.eventstudy" in graph["incident_impact"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


def test_eventstudy_is_acyclic_and_its_engines_do_not_import_the_driver():
    graph = import_graph()
    mods = {m: deps for m, deps in graph.items() if m.startswith("incident_impact.eventstudy.")}
    inner = {m: {d for d in deps if d in mods} for m, deps in mods.items()}
    assert cycles(inner) == []
    driver = "incident_impact.eventstudy.study"
    for engine in ("batch", "batch_panel", "batch_fit", "batch_pairs", "batch_rank", "loop", "study_results",
                   "results", "event", "inputs", "spec"):
        assert driver not in graph[f"incident_impact.eventstudy.{engine}"], engine
    # no eventstudy module reaches outside the package's leaf helpers
    allowed = {"incident_impact.errors", "incident_impact.distributions", "incident_impact.display"}
    for module, deps in mods.items():
        outside = {d for d in deps if not d.startswith("incident_impact.eventstudy")}
        assert outside <= allowed, (module, outside - allowed)


def test_no_import_cycle():
    found = [sorted(c) for c in cycles(import_graph())]
    assert found == [], f"import cycles: {found}"


def test_the_cycle_finder_finds_a_cycle():
    """The check can fail: a graph with a two-module loop and a three-module loop has both found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(sorted(c) for c in cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


_IMPORT_EACH = """
import importlib, json, sys, traceback
failures = {}
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "incident_impact" or m.startswith("incident_impact.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failures[name] = traceback.format_exc(limit=3)
print(json.dumps(failures))
"""


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    """One fresh interpreter; before each module every ``incident_impact`` module is dropped from
    ``sys.modules``, so each import starts from nothing of ours (third-party packages stay loaded)."""
    names = sorted(module_names())
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH, *names], capture_output=True, text=True, timeout=600,
                          cwd=ROOT.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert failures == {}, "\n".join(f"{k}:\n{v}" for k, v in failures.items())


@pytest.mark.parametrize("module", ["incident_impact.eventstudy.batch", "incident_impact.eventstudy.study_results",
                                    "incident_impact.eventstudy.placebo", "incident_impact.eventstudy.outofcore"])
def test_eventstudy_entry_points_import_first_in_a_new_process(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=300,
                          cwd=ROOT.parent)
    assert done.returncode == 0, done.stderr[-3000:]
