"""The import graph among FOOF's own modules has no cycle (issue #16).

Every ``import`` in every module under ``foof/`` counts, at module level and inside functions
or methods alike: an import moved into a function still ties the two modules together, it only
hides the cycle from Python's loader. ``from a.b import c`` points at the module ``a.b.c`` when
there is one, otherwise at ``a.b``. Importing a submodule is not counted as importing its parent
packages (every module would otherwise depend on ``foof/__init__.py``, which imports them back).
"""

import ast
from pathlib import Path

import foof

ROOT = Path(foof.__file__).resolve().parent


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _resolve(name, is_package, node):
    """The absolute module named by an ``ImportFrom``'s ``module`` and ``level``."""
    if not node.level:
        return node.module
    base = name.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(modules):
    """``{module: {(imported foof module, line), …}}`` for every module in ``modules``."""
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, is_package, node)
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    targets.append(full if full in modules else source)
            for target in targets:
                if target in modules and target != name:
                    edges.add((target, node.lineno))
        graph[name] = edges
    return graph


def find_cycle(graph, among=None):
    """One cycle as ``[(module, line, next module), …]`` (each importing the next), or ``None``.
    ``among`` limits the search to those modules."""
    among = set(graph) if among is None else set(among)
    adjacency = {name: sorted(e for e in graph[name] if e[0] in among) for name in among}
    state = {}  # absent: unvisited, 1: on the current path, 2: finished
    path = []

    def visit(name):
        state[name] = 1
        for target, line in adjacency[name]:
            path.append((name, line, target))
            if state.get(target) == 1:
                start = next(i for i, (src, _, _) in enumerate(path) if src == target)
                return path[start:]
            if target not in state:
                found = visit(target)
                if found:
                    return found
            path.pop()
        state[name] = 2
        return None

    for name in sorted(adjacency):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def tangles(graph):
    """Every set of modules that reach each other through imports (strongly connected
    components of more than one module), each as a sorted tuple."""
    order, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(name):
        order[name] = low[name] = len(order)
        stack.append(name)
        on_stack.add(name)
        for target, _ in graph[name]:
            if target not in order:
                connect(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], order[target])
        if low[name] == order[name]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == name:
                    break
            if len(members) > 1:
                found.append(tuple(sorted(members)))

    for name in sorted(graph):
        if name not in order:
            connect(name)
    return sorted(found)


def _describe(cycle, modules):
    return (
        " -> ".join(f"{src} ({modules[src].relative_to(ROOT.parent)}:{line})" for src, line, _ in cycle)
        + f" -> {cycle[0][0]}"
    )


def _report(graph, modules, groups):
    return "; ".join(_describe(find_cycle(graph, among=group), modules) for group in groups)


def test_the_graph_sees_function_level_and_relative_imports(tmp_path):
    """The parser itself: a function-level import and a relative one both make edges."""
    modules = {"foof.a": tmp_path / "a.py", "foof.b": tmp_path / "b.py"}
    modules["foof.a"].write_text("import os\nfrom foof import b\n")
    modules["foof.b"].write_text("def f():\n    from . import a\n    return a\n")
    graph = import_graph(modules)
    assert {t for t, _ in graph["foof.a"]} == {"foof.b"}
    assert {t for t, _ in graph["foof.b"]} == {"foof.a"}
    assert find_cycle(graph) is not None and tangles(graph) == [("foof.a", "foof.b")]
    modules["foof.b"].write_text("def f():\n    return 1\n")
    assert find_cycle(import_graph(modules)) is None


def test_foof_modules_import_each_other_one_way_only():
    modules = _modules()
    graph = import_graph(modules)
    assert len(graph) > 20 and any(graph.values())  # it really read the package
    cycles = tangles(graph)
    assert not cycles, "import cycle(s) among foof modules: " + _report(graph, modules, cycles)
