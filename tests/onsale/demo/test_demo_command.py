"""`onsale demo` as an operator starts it: flags become the scenario, a scenario that cannot run
or a port already taken is refused before anything is booted."""

import argparse
import pathlib
import socket

import pytest

from gateway.settings import Settings
from loadtests.scenario import Scenario
from onsale.cli import main
from onsale.demo.child_system import ChildSystem, SystemDidNotStart, port_is_taken
from onsale.demo.flags import add_demo_arguments, scenario_from


def parsed(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_demo_arguments(parser)
    return parser.parse_args(list(flags))


def test_no_flags_give_the_default_scenario() -> None:
    assert scenario_from(parsed()) == Scenario()


def test_every_flag_sets_its_knob_of_the_scenario() -> None:
    scenario = scenario_from(
        parsed("--fans", "300", "--seats", "120", "--general", "0", "--decline-share", "0.2")
    )

    assert (scenario.fans, scenario.seats, scenario.general) == (300, 120, 0)
    assert scenario.decline_share == 0.2
    assert scenario.abandon_share == Scenario().abandon_share


def test_a_scenario_that_cannot_run_is_refused_before_anything_boots(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--fans", "0"]) == 2
    assert "demo refused: a scenario needs at least one fan" in capsys.readouterr().out


def test_a_port_in_use_is_refused_with_a_way_out(tmp_path: pathlib.Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        system = ChildSystem(Settings(port=port, data_dir=str(tmp_path)))

        assert port_is_taken("127.0.0.1", port)
        with pytest.raises(SystemDidNotStart, match="ONSALE_PORT"):
            system.start()
    assert system.stop() == 0
