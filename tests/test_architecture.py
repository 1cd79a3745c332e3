"""How the code is put together: imports flow one way, and no module imports itself in a circle.

Every import counts, the ones inside functions too: a function-local import that hides a
cycle is still a cycle. The packages, from the top down:

    culture                 the composition root: settings, URLs, WSGI, the one NinjaAPI
    reader, editorial       the front doors for people: the reader site, the editors' admin
    api                     the front door for programs (its errors, schemas, rate limits)
    ops                     probes, the 503 when no connection can be had, the status data
    tokens                  API credentials
    articles                the domain: models, rules, the one door for story writes, search

A package imports only packages below it; nothing imports culture (Django reads it by name).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    {"culture"},
    {"reader", "editorial"},
    {"api"},
    {"ops"},
    {"tokens"},
    {"articles"},
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in RANK:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports, anywhere in its body."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found.update(resolve(name) for name in names)
        graph[module] = found - {None, module}
    return graph


@pytest.fixture(scope="module")
def graph():
    return imports(project_modules())


def test_packages_import_only_the_packages_below_them(graph):
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if (source := module.split(".")[0]) != (package := target.split(".")[0])
        and RANK[package] <= RANK[source]
    )
    assert wrong == []


def test_no_module_imports_itself_in_a_circle(graph):
    cycles = []
    state = {}  # module -> "open" while on the path, "done" once explored

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checks_see_a_cycle_and_a_wrong_way_import(tmp_path):
    """The two tests above can fail: a made-up tree with both faults is caught."""
    for package, source in {
        "articles": "from api import views\n",
        "api": "def f():\n    from articles import models\n",
    }.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(source)
    modules = {
        "articles": tmp_path / "articles" / "__init__.py",
        "api": tmp_path / "api" / "__init__.py",
    }
    graph = imports(modules)
    assert graph == {"articles": {"api"}, "api": {"articles"}}
    with pytest.raises(AssertionError):
        test_packages_import_only_the_packages_below_them(graph)
    with pytest.raises(AssertionError):
        test_no_module_imports_itself_in_a_circle(graph)


def test_culture_holds_configuration_only():
    assert sorted(path.name for path in (ROOT / "culture").glob("*.py")) == [
        "__init__.py",
        "api.py",
        "database.py",
        "env.py",
        "settings.py",
        "urls.py",
        "workers.py",
        "wsgi.py",
    ]
