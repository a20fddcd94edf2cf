"""The layers stay honest: the engine imports no shell, persistence knows neither Ray nor FastAPI,
and the gateway reaches actors only through `actors.clients`."""

import ast
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
STANDARD_LIBRARY = set(sys.stdlib_module_names)
ENGINE_FORBIDDEN_STANDARD_MODULES = {
    "asyncio",
    "time",
    "uuid",
    "random",
    "socket",
    "subprocess",
    "threading",
    "multiprocessing",
    "os",
}


def imported_top_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def python_files(package: str) -> list[pathlib.Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("engine"), ids=lambda p: p.name)
def test_engine_imports_only_standard_library_msgspec_and_itself(path: pathlib.Path) -> None:
    for module in imported_top_modules(path):
        top = module.split(".")[0]
        allowed = top in {"engine", "msgspec"} or (
            top in STANDARD_LIBRARY and top not in ENGINE_FORBIDDEN_STANDARD_MODULES
        )
        assert allowed, f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("path", python_files("persistence"), ids=lambda p: p.name)
def test_persistence_imports_neither_ray_nor_fastapi(path: pathlib.Path) -> None:
    for module in imported_top_modules(path):
        assert module.split(".")[0] not in {"ray", "fastapi", "gateway", "actors"}, (
            f"{path.relative_to(ROOT)} imports {module}"
        )


@pytest.mark.parametrize("path", python_files("gateway"), ids=lambda p: p.name)
def test_gateway_reaches_actors_only_through_clients(path: pathlib.Path) -> None:
    for module in imported_top_modules(path):
        if module.split(".")[0] == "actors":
            assert module == "actors.clients", f"{path.relative_to(ROOT)} imports {module}"
        assert module.split(".")[0] != "ray" or path.name == "runtime.py", (
            f"{path.relative_to(ROOT)} imports ray outside the composition root"
        )


@pytest.mark.parametrize("path", python_files("payments"), ids=lambda p: p.name)
def test_payments_know_neither_ray_nor_the_gateway(path: pathlib.Path) -> None:
    """Settlement runs in the gateway and in the cluster's reconciler alike."""
    for module in imported_top_modules(path):
        assert module.split(".")[0] not in {"ray", "fastapi", "gateway", "actors"}, (
            f"{path.relative_to(ROOT)} imports {module}"
        )
