"""The import graph of sknn has no cycles.

Every ``import`` and ``from ... import`` statement of every module is an edge,
those inside functions included (a deferred import still ties the two modules
together: neither can be read, moved or tested without the other).  A cycle
is reported as the modules on it, so the failure names what to untangle.
"""

import ast
from pathlib import Path

import pytest

import sknn

PACKAGE = Path(sknn.__file__).parent


def module_names(root=PACKAGE, package="sknn"):
    """``{module name: path}`` of every ``.py`` file under ``root``; a
    package's ``__init__.py`` is named after the package."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join([package, *parts])] = path
    return names


def _imported(node, module, is_package, known):
    """The known modules that one import statement of ``module`` names."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        if node.level:
            anchor = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                anchor = anchor.rpartition(".")[0]
            base = f"{anchor}.{node.module}" if node.module else anchor
        else:
            base = node.module
        # ``from pkg import sub`` imports the submodule ``pkg.sub``;
        # ``from pkg import name`` runs ``pkg`` itself
        targets = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
            for alias in node.names
        ]
    found = set()
    for name in targets:
        while name and name not in known:  # ``import a.b.c`` names a.b.c's module
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def import_graph(modules):
    """``{module: set of modules it imports}`` for ``modules`` (name ->
    path), every import statement counted, function-level ones included."""
    known = set(modules)
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _imported(node, module, is_package, known)
        edges.discard(module)
        graph[module] = edges
    return graph


def find_cycles(graph):
    """The import cycles of ``graph`` (``{node: iterable of nodes}``).

    Each strongly connected component with more than one node (or a node
    that imports itself) is one cycle, given as its sorted node names; the
    list is sorted.  Tarjan's algorithm, written iteratively.
    """
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    cycles.append(sorted(component))
    return sorted(cycles)


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": ["b"], "b": ["c"], "c": []}, []),
        ({"a": ["b"], "b": ["a"]}, [["a", "b"]]),
        ({"a": ["a"]}, [["a"]]),
        ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, [["a", "b", "c"]]),
        (
            {"a": ["b"], "b": ["a", "c"], "c": ["d"], "d": ["c"], "e": []},
            [["a", "b"], ["c", "d"]],
        ),
        ({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}, []),  # a diamond
    ],
)
def test_find_cycles_on_small_graphs(graph, expected):
    assert find_cycles(graph) == expected


def test_import_graph_reads_every_form_of_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    sources = {
        "__init__.py": "from pkg.a import f\n",
        "a.py": "def f():\n    from . import b  # deferred\n",
        "b.py": "import pkg.sub.c as c\nfrom .sub import d\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import f\nimport os\n",
        "sub/d.py": "from .. import f\n",
    }
    for name, text in sources.items():
        (pkg / name).write_text(text)
    graph = import_graph(module_names(pkg, "pkg"))
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.sub.c", "pkg.sub.d"},
        "pkg.sub": set(),
        "pkg.sub.c": {"pkg.a"},
        "pkg.sub.d": {"pkg"},
    }
    assert find_cycles(graph) == [["pkg", "pkg.a", "pkg.b", "pkg.sub.c", "pkg.sub.d"]]


def describe(graph, cycles):
    """Each cycle's imports among its own modules, one line per module."""
    lines = []
    for cycle in cycles:
        lines.append("cycle:")
        for module in cycle:
            inside = sorted(set(graph[module]) & set(cycle))
            lines.append(f"  {module} imports {', '.join(inside)}")
    return "\n".join(lines)


def test_no_import_cycles():
    graph = import_graph(module_names())
    assert "sknn._core.backend" in graph["sknn._core.solvers"]  # the graph is read
    cycles = find_cycles(graph)
    assert not cycles, "import cycles among sknn's modules\n" + describe(graph, cycles)
