"""The layers stay honest: the engine imports no shell, persistence knows neither Ray nor FastAPI,
the gateway reaches actors only through `actors.clients`, and the processes and tools above the
layers (embedded/, loadtests/, onsale/) are imported by none below them."""

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
        assert module.split(".")[0] != "ray", (
            f"{path.relative_to(ROOT)} imports ray: the runtime (onsale/runtime.py) starts it"
        )


@pytest.mark.parametrize("path", python_files("payments"), ids=lambda p: p.name)
def test_payments_know_neither_ray_nor_the_gateway(path: pathlib.Path) -> None:
    """Settlement runs in the gateway and in the cluster's reconciler alike."""
    for module in imported_top_modules(path):
        assert module.split(".")[0] not in {"ray", "fastapi", "gateway", "actors"}, (
            f"{path.relative_to(ROOT)} imports {module}"
        )


# Each package above the layers, with the packages that must never import it: everything below.
LAYERS = ["engine", "persistence", "actors", "payments", "minting", "notifications", "gateway"]
IMPORTED_ONLY_FROM_ABOVE = {
    "embedded": LAYERS,
    "loadtests": [*LAYERS, "embedded"],
    "onsale": [*LAYERS, "embedded", "loadtests"],
}


BELOW_THE_PROCESSES = sorted(
    {package for below in IMPORTED_ONLY_FROM_ABOVE.values() for package in below}
)


@pytest.mark.parametrize(
    "path",
    [path for package in BELOW_THE_PROCESSES for path in python_files(package)],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_package_imports_the_processes_and_tools_above_it(path: pathlib.Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    for module in imported_top_modules(path):
        top = module.split(".")[0]
        if top in IMPORTED_ONLY_FROM_ABOVE:
            assert package not in IMPORTED_ONLY_FROM_ABOVE[top], (
                f"{path.relative_to(ROOT)} imports {module}, which sits above {package}"
            )
