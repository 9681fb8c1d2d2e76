"""No import cycles between dabench modules.

The graph is read from the source with :mod:`ast`, so it sees every import the code can
make: at module level, inside functions (a lazy import is still a dependency, it only
moves the failure to run time) and under ``if TYPE_CHECKING:``. Relative imports are
resolved against the importing module; an import of a package is a dependency on its
``__init__``; ``from dabench.x import name`` where ``name`` is a submodule of ``dabench.x``
is a dependency on that submodule. Importing ``dabench.x.y`` also runs ``dabench/x/__init__.py``
first, so it is a dependency on that ``__init__`` too, unless the importer is itself inside
``dabench.x`` (then that ``__init__`` is already running). A cycle means two modules cannot
be understood, tested or loaded one without the other, so the layering is wrong somewhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "dabench"
ROOT = Path(__file__).resolve().parents[1]

Graph = dict[str, set[str]]


def module_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` by dotted name; a package is named by its ``__init__``."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _absolute(node: ast.ImportFrom, importer: str, modules: dict[str, Path]) -> str:
    """The absolute module named by a (possibly relative) ``from ... import``."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not _is_package(importer, modules):
        base.pop()  # a plain module's relative imports start from its package
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The dabench module that ``name`` (a dotted path, maybe of an attribute) resolves to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _packages_run_first(target: str, importer: str, modules: dict[str, Path]) -> set[str]:
    """The enclosing packages whose ``__init__`` importing ``target`` runs, seen from ``importer``."""
    parts = target.split(".")
    enclosing = (".".join(parts[:i]) for i in range(1, len(parts)))
    return {p for p in enclosing if p in modules and not importer.startswith(p + ".")}


def imports_of(importer: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The dabench modules ``importer`` imports anywhere in its source, with the package ``__init__``
    modules those imports run."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, importer, modules)
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            owner = _owner(target, modules)
            if owner is not None:
                found |= {owner} | _packages_run_first(owner, importer, modules)
    found.discard(importer)
    return found


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> Graph:
    """Module → the modules it imports, for every module of ``package``."""
    modules = module_files(root, package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def strongly_connected(graph: Graph) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop(0)
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def a_cycle(graph: Graph, component: list[str]) -> list[str]:
    """One concrete cycle through the first module of ``component``, closed (first == last)."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    queue = [start]
    while queue:  # breadth-first, so the cycle shown is a shortest one through ``start``
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, node, start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return component  # unreachable for a strongly connected component


def describe(graph: Graph, components: list[list[str]]) -> str:
    """One line per component: its modules and one cycle through them."""
    return "\n".join(f"- {len(c)} modules {c}\n  e.g. {' -> '.join(a_cycle(graph, c))}" for c in components)


def test_graph_sees_lazy_relative_and_submodule_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.leaf import X\n")
    (pkg / "sub" / "leaf.py").write_text("X = 1\n")
    (pkg / "sub" / "other.py").write_text("from . import leaf\nfrom .. import top\n")
    (pkg / "top.py").write_text("def f():\n    from pkg.sub import X\n    import pkg.sub.other\n")
    (pkg / "side.py").write_text("from pkg.sub import leaf\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.top"] == {"pkg.sub", "pkg.sub.other"}
    assert graph["pkg.sub.other"] == {"pkg.sub.leaf", "pkg.top"}  # its own package's __init__ already runs
    assert graph["pkg.sub"] == {"pkg.sub.leaf"}
    assert graph["pkg.side"] == {"pkg.sub", "pkg.sub.leaf"}  # a submodule import runs pkg/sub/__init__.py
    assert graph["pkg"] == set()
    assert strongly_connected(graph) == [["pkg.sub.other", "pkg.top"]]
    assert a_cycle(graph, ["pkg.sub.other", "pkg.top"]) == ["pkg.sub.other", "pkg.top", "pkg.sub.other"]


def test_a_cycle_closed_by_a_package_init_is_found(tmp_path: Path) -> None:
    # other -> sub.leaf runs sub/__init__, which imports sub.heavy, which imports other (lazily)
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub.heavy import run\n")
    (pkg / "sub" / "heavy.py").write_text("def run():\n    from pkg.other import f\n")
    (pkg / "sub" / "leaf.py").write_text("")
    (pkg / "other.py").write_text("from pkg.sub import leaf\n")
    graph = import_graph(tmp_path, "pkg")
    assert strongly_connected(graph) == [["pkg.other", "pkg.sub", "pkg.sub.heavy"]]


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert "dabench.cli" in graph and "dabench.stats.paired" in graph
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles between dabench modules:\n" + describe(graph, cycles)
