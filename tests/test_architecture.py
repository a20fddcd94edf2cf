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
# What the gateway may import from actors/: the clients and the cluster's start-up, the
# records, names and clock they speak in, and the log format every process shares. None of them
# is an actor class or makes one remote.
GATEWAY_FACADES = {
    "actors.json_logs",
    "actors.inventory_client",
    "actors.payment_client",
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


# Each package and the packages it may import: a package imports only those below it, so no import
# climbs and no two packages import each other. Tests may import anything.
BELOW: dict[str, tuple[str, ...]] = {
    "engine": (),
    "persistence": ("engine",),
    "minting": ("engine", "persistence"),
    "notifications": ("engine", "persistence"),
    "payments": ("engine", "persistence", "minting", "notifications"),
    "services": ("engine", "persistence", "minting", "notifications", "payments"),
    "actors": ("engine", "persistence", "minting", "notifications", "payments", "services"),
    "gateway": (
        "engine",
        "persistence",
        "minting",
        "notifications",
        "payments",
        "services",
        "actors",
    ),
}
BELOW["embedded"] = (*BELOW["gateway"], "gateway")
BELOW["loadtests"] = (*BELOW["embedded"], "embedded")
BELOW["onsale"] = (*BELOW["loadtests"], "loadtests")
LAYERS = {package: frozenset(below) for package, below in BELOW.items()}
OWN_PACKAGES = frozenset(LAYERS)


def layer_depth(package: str) -> int:
    """How many layers lie under `package`: a package may import only shallower ones."""
    return 1 + max((layer_depth(below) for below in LAYERS[package]), default=-1)


for _package, _below in LAYERS.items():
    assert _below <= OWN_PACKAGES, f"{_package} names an unknown package"
    assert all(layer_depth(below) < layer_depth(_package) for below in _below), _package


def every_module() -> dict[str, pathlib.Path]:
    """Each of the project's modules by dotted name (a package by its own name)."""
    found: dict[str, pathlib.Path] = {}
    for package in OWN_PACKAGES:
        for path in python_files(package):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = every_module()


def own_imports(path: pathlib.Path) -> set[str]:
    """The project's modules that `path` imports, lazy imports and `from package import module`
    included: a cycle hidden inside a function is still a cycle in the design."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES}


IMPORTS = {name: own_imports(path) - {name} for name, path in MODULES.items()}


@pytest.mark.parametrize("package", sorted(OWN_PACKAGES))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    climbing = sorted(
        f"{importer} imports {imported}"
        for importer, imported_modules in IMPORTS.items()
        if importer.split(".")[0] == package
        for imported in imported_modules
        if imported.split(".")[0] not in LAYERS[package] | {package}
    )
    assert climbing == []


def test_every_package_of_the_project_has_its_layer() -> None:
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == OWN_PACKAGES


def module_cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    order: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = lowest[module] = len(order)
        stack.append(module)
        for imported in imports[module]:
            if imported not in order:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in stack:
                lowest[module] = min(lowest[module], order[imported])
        if lowest[module] == order[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(imports):
        if module not in order:
            visit(module)
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    assert module_cycles(IMPORTS) == []


def test_a_cycle_is_found_when_two_modules_import_each_other() -> None:
    assert module_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
