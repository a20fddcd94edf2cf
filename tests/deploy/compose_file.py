"""docker-compose.yml as Compose reads it with nothing set in the environment: YAML with its anchors
and merge keys, then each `${NAME:-default}` or `${NAME-default}` given its default. A reference
without a default, or of another form, fails: the stack must start with nothing set."""

import pathlib
import re
from typing import Any

import yaml

from tests.conftest import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<form>:-|-)(?P<default>[^}]*)\}")
ANY_REFERENCE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_]")


def interpolated(value: Any) -> Any:
    """`value` with every reference in its strings replaced by its default."""
    if isinstance(value, dict):
        return {key: interpolated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolated(item) for item in value]
    if isinstance(value, str):
        text = REFERENCE.sub(lambda match: match["default"], value)
        assert not ANY_REFERENCE.search(text), f"a reference Compose cannot default: {value}"
        return text
    return value


def compose_file(path: pathlib.Path = COMPOSE_FILE) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return {key: interpolated(value) for key, value in loaded.items()}


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as its processes see it: every value a string."""
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environments are written as mappings"
    return {name: str(value) for name, value in environment.items()}


def volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """A service's mounts of named volumes: the path in the container, by volume."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target, *_ = entry.split(":")
        if not source.startswith((".", "/")):
            mounts[source] = target
    return mounts
