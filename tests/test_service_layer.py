"""The service layer stays below HTTP: `services/` speaks in values and domain errors, so it
imports neither the gateway nor FastAPI nor Ray, and reaches actors only through their facade."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FORBIDDEN_TOP_MODULES = {"gateway", "fastapi", "starlette", "ray"}


def absolute_imports(path: pathlib.Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", sorted((ROOT / "services").rglob("*.py")), ids=lambda p: p.name)
def test_services_import_neither_http_nor_ray_when_any_module_is_read(path: pathlib.Path) -> None:
    for module in absolute_imports(path):
        top = module.split(".")[0]
        assert top not in FORBIDDEN_TOP_MODULES, f"{path.relative_to(ROOT)} imports {module}"
        if top == "actors":
            assert module == "actors.clients", f"{path.relative_to(ROOT)} imports {module}"
