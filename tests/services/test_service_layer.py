"""The service layer stays below HTTP: a use case imports neither FastAPI, Starlette, Ray nor the
gateway, and the gateway reads what its composition root built only through `gateway_state`."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
STATE_OWNERS = {"gateway/state.py", "gateway/app.py"}


def imported_top_packages(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    packages: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            packages.add(node.module.split(".")[0])
    return packages


@pytest.mark.parametrize("path", sorted((ROOT / "services").rglob("*.py")), ids=lambda p: p.name)
def test_services_know_neither_http_nor_ray(path: pathlib.Path) -> None:
    """A use case is called from a route and from an actor alike: it raises its own refusals,
    which the gateway words for the API."""
    forbidden = imported_top_packages(path) & {"ray", "fastapi", "starlette", "gateway"}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", sorted((ROOT / "gateway").rglob("*.py")), ids=lambda p: p.name)
def test_gateway_reads_its_state_only_through_its_accessor(path: pathlib.Path) -> None:
    """The composition root keeps one typed GatewayState; everything else asks gateway_state."""
    if path.relative_to(ROOT).as_posix() in STATE_OWNERS:
        return
    assert "app.state" not in path.read_text(), f"{path.relative_to(ROOT)} reads app.state"
