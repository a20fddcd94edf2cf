"""Every `onsale up` a test starts is ended after it, passed or failed, with whatever of it is
left: a failing test never leaves a system running."""

import pathlib
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.running_system import RunningSystem

StartSystem = Callable[..., RunningSystem]


@pytest.fixture
def start_system() -> Iterator[StartSystem]:
    started: list[RunningSystem] = []

    def start(
        data_dir: pathlib.Path, extra_environment: dict[str, str] | None = None
    ) -> RunningSystem:
        system = RunningSystem(data_dir, extra_environment or {})
        started.append(system)
        return system

    yield start
    for system in started:
        system.end()
