"""The layers stay honest: the engine imports no shell, persistence knows neither Ray nor FastAPI,
the gateway reaches actors only through their facades (never ray, an actor class or
`actors.remote`), and `ray.remote` is applied once per class, at import, in two modules."""

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
# What the gateway may import from actors/: the clients and the cluster's start-up, and the
# records, names and clock they speak in. None of them is an actor class or makes one remote.
GATEWAY_FACADES = {
    "actors.inventory_client",
    "actors.waiting_room_client",
    "actors.waiting_room_publication",
    "actors.cluster",
    "actors.inventory_figures",
    "actors.work_health",
    "actors.outside_parts",
    "actors.wall_clock",
    "actors.names",
    "actors.placement",
}
# `actors.remote` makes every actor class remote but the Supervisor, which starts them and so
# sits above it, in the cluster's start-up.
MODULES_APPLYING_RAY_REMOTE = {"actors/remote.py", "actors/cluster.py"}


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
def test_gateway_reaches_actors_only_through_their_facades(path: pathlib.Path) -> None:
    for module in imported_top_modules(path):
        if module.split(".")[0] == "actors":
            assert module in GATEWAY_FACADES, f"{path.relative_to(ROOT)} imports {module}"
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


def ray_remote_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "remote"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "ray"
    ]


@pytest.mark.parametrize("path", python_files("actors"), ids=lambda p: p.name)
def test_ray_remote_is_applied_once_at_import_and_only_where_actors_are_made_remote(
    path: pathlib.Path,
) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    calls = ray_remote_calls(tree)
    if str(path.relative_to(ROOT)) not in MODULES_APPLYING_RAY_REMOTE:
        assert not calls, f"{path.relative_to(ROOT)} applies ray.remote"
        return
    at_import = [
        statement.value
        for statement in tree.body
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call)
    ]
    assert all(call in at_import for call in calls), (
        f"{path.relative_to(ROOT)} applies ray.remote inside a function"
    )


def imported_actor_modules(path: pathlib.Path) -> set[str]:
    """Every actors module `path` imports, lazy and type-only imports too."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {module for module in modules if (ROOT / (module.replace(".", "/") + ".py")).exists()}


def test_actors_modules_import_one_another_in_one_direction() -> None:
    graph = {
        f"actors.{path.stem}": imported_actor_modules(path) - {f"actors.{path.stem}"}
        for path in python_files("actors")
        if path.stem != "__init__"
    }
    finished: set[str] = set()

    def walk(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in finished:
            return
        for imported in sorted(graph.get(module, ())):
            walk(imported, (*path, module))
        finished.add(module)

    for module in sorted(graph):
        walk(module, ())


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
