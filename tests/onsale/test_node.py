"""`onsale node`: the `ray start` each role runs, and the shared token it insists on."""

import argparse
import json
import subprocess
import sys

import pytest

from actors.placement import EVENT_ACTOR_SLOT, LOCAL_CHAIN_HOST, LOCAL_CHAINS_PER_HOST_MAX
from engine import limits
from onsale.node import auth_problems, head_environment, ray_start_arguments
from onsale.node_arguments import add_node_arguments

TOKEN = "t" * 48


def parsed(*words: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_node_arguments(parser)
    return parser.parse_args(words)


def option(command: list[str], name: str) -> str:
    [value] = [word.split("=", 1)[1] for word in command if word.startswith(f"{name}=")]
    return value


def test_head_offers_event_slots_and_the_chains_place_and_blocks() -> None:
    command = ray_start_arguments(parsed("--head", "--address", "10.0.0.1", "--port", "7000"))

    assert command[1:4] == ["-m", "ray.scripts.scripts", "start"]
    assert "--head" in command and "--block" in command
    assert (option(command, "--port"), option(command, "--node-ip-address")) == (
        "7000",
        "10.0.0.1",
    )
    assert json.loads(option(command, "--resources")) == {
        EVENT_ACTOR_SLOT: limits.EVENT_ACTORS_PER_NODE_MAX,
        LOCAL_CHAIN_HOST: LOCAL_CHAINS_PER_HOST_MAX,
    }


def test_joining_node_offers_its_slots_but_never_the_chains_place() -> None:
    command = ray_start_arguments(parsed("--join", "10.0.0.1:7000", "--event-actors", "5"))

    assert option(command, "--address") == "10.0.0.1:7000"
    assert "--head" not in command and "--block" in command
    assert json.loads(option(command, "--resources")) == {EVENT_ACTOR_SLOT: 5}


def test_gateway_node_starts_in_the_background_with_no_slot() -> None:
    command = ray_start_arguments(
        parsed("--join", "head:6379", "--event-actors", "0", "--num-cpus", "0", "--background")
    )

    assert "--block" not in command
    assert option(command, "--num-cpus") == "0"
    assert json.loads(option(command, "--resources")) == {EVENT_ACTOR_SLOT: 0}


def test_head_moves_a_dead_nodes_events_sooner_than_rays_defaults() -> None:
    assert head_environment() == {
        "RAY_health_check_period_ms": str(limits.NODE_HEALTH_CHECK_INTERVAL_MS),
        "RAY_health_check_failure_threshold": str(limits.NODE_HEALTH_CHECK_FAILURES_MAX),
    }


@pytest.mark.parametrize(
    ("environ", "variables"),
    [
        ({}, ["RAY_AUTH_MODE", "RAY_AUTH_TOKEN"]),
        ({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "short"}, ["RAY_AUTH_TOKEN"]),
        ({"RAY_AUTH_MODE": "disabled", "RAY_AUTH_TOKEN": TOKEN}, ["RAY_AUTH_MODE"]),
        ({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN}, []),
    ],
)
def test_node_is_refused_without_the_clusters_shared_token(
    environ: dict[str, str], variables: list[str]
) -> None:
    assert [problem.split()[0] for problem in auth_problems(environ)] == variables


def test_onsale_node_exits_naming_the_token_when_it_is_missing() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "onsale.cli", "node", "--head"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert "RAY_AUTH_TOKEN" in finished.stderr and "RAY_AUTH_MODE" in finished.stderr
