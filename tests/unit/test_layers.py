"""The layers point one way (an import-linter of our own, over the source's import statements,
function-local and TYPE_CHECKING ones included):

- `libs/` imports nothing from `services/`;
- a service imports no other service (they meet through events and REST);
- domain packages import no framework, driver or infrastructure module — only the standard
  library, pure libraries and `libs.problems`;
- the event machinery's modules import each other without cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN_IN_DOMAIN = (
    "fastapi",
    "starlette",
    "asyncpg",
    "sqlalchemy",
    "httpx",
    "aiokafka",
    "uvicorn",
    "libs.servicekit",
    "libs.events",
    "libs.devstack",
)


def imports_of(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_libs_import_no_service() -> None:
    offenders = [
        f"{module_name(path)} imports {imported}"
        for path in sources("libs")
        for imported in imports_of(path)
        if within(imported, "services")
    ]
    assert offenders == []


def test_simulators_stand_alone() -> None:
    """A simulator stands in for a system we do not own: it shares no code with Tanhui, so
    that it can only agree with matching through the contract."""
    offenders = [
        f"{module_name(path)} imports {imported}"
        for path in sources("simulators")
        for imported in imports_of(path)
        if within(imported, "services") or within(imported, "libs")
    ]
    assert offenders == []
    assert list(sources("simulators")), "no simulator sources found"


def test_only_the_adapter_talks_to_the_settlement_system() -> None:
    mentions = [
        module_name(path)
        for path in sources("services")
        if "/v1/settlements" in path.read_text() or "/v1/reservations" in path.read_text()
    ]
    assert mentions == ["services.matching.settlement"]


@pytest.mark.parametrize("service", ["registry", "issuance", "matching", "disclosure"])
def test_a_service_imports_no_other_service(service: str) -> None:
    offenders = [
        f"{module_name(path)} imports {imported}"
        for path in sources(f"services/{service}")
        for imported in imports_of(path)
        if within(imported, "services") and not within(imported, f"services.{service}")
    ]
    assert offenders == []


def test_domain_code_imports_no_infrastructure() -> None:
    domains = sorted((ROOT / "services").glob("*/domain"))
    assert domains, "no domain packages found"
    offenders = [
        f"{module_name(path)} imports {imported}"
        for domain in domains
        for path in sorted(domain.rglob("*.py"))
        for imported in imports_of(path)
        if any(within(imported, forbidden) for forbidden in FORBIDDEN_IN_DOMAIN)
    ]
    assert offenders == []


def test_problem_types_are_framework_free() -> None:
    imported = set(imports_of(ROOT / "libs" / "problems.py"))
    assert not {m for m in imported if any(within(m, f) for f in FORBIDDEN_IN_DOMAIN)}


def test_the_checker_sees_function_local_imports(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("def f():\n    from services.registry.audit import verify\n")
    assert list(imports_of(source)) == ["services.registry.audit"]


def import_graph(folder: str) -> dict[str, set[str]]:
    modules = {module_name(path): path for path in sources(folder)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in imports_of(path):
            # `from libs.events import x` names a module or a package attribute: either way
            # the importer depends on that package, and on the module if it is one.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle, once (depth-first search, by the first module in it)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_libraries_have_no_import_cycles() -> None:
    graph = import_graph("libs")
    # Package __init__ modules re-export their modules: an edge into a package is not a cycle
    # through it, so they are left out of the graph.
    graph = {
        m: {t for t in targets if not (ROOT / Path(*t.split(".")) / "__init__.py").exists()}
        for m, targets in graph.items()
        if not (ROOT / Path(*m.split(".")) / "__init__.py").exists()
    }
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
