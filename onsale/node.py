"""`onsale node`: make this machine a node of the system's Ray cluster.

`onsale node --head` starts the cluster's head on this machine (port 6379 unless `--port`);
`onsale node --join HEAD:PORT` adds a node to it. Each runs `ray start --block` with what our
actors need of a node: its slots for per-event actors and, on the head only, the place of the
embedded chain (actors.placement). A gateway's machine is a node too, since a Ray driver attaches
through a node on its own machine: `onsale node --join HEAD:PORT --event-actors 0 --background`
starts one and returns, and `onsale up` with RAY_ADDRESS then attaches through it.

The nodes and gateways of a cluster authenticate each other with one token, which configuration
gives them all (RAY_AUTH_MODE=token, RAY_AUTH_TOKEN); a node without it is refused here, before
Ray would start one that nothing else can talk to.
"""

import argparse
import json
import os
import sys
from collections.abc import Mapping

from actors.placement import node_resources
from engine import limits

AUTH_MODE_VARIABLE = "RAY_AUTH_MODE"
AUTH_TOKEN_VARIABLE = "RAY_AUTH_TOKEN"
AUTH_TOKEN_CHARACTERS_MIN = 32


def auth_problems(environ: Mapping[str, str]) -> list[str]:
    problems = []
    if environ.get(AUTH_MODE_VARIABLE) != "token":
        problems.append(
            f"{AUTH_MODE_VARIABLE} is not 'token': a cluster's nodes and gateways must "
            "authenticate each other"
        )
    if len(environ.get(AUTH_TOKEN_VARIABLE, "")) < AUTH_TOKEN_CHARACTERS_MIN:
        problems.append(
            f"{AUTH_TOKEN_VARIABLE} is missing or shorter than {AUTH_TOKEN_CHARACTERS_MIN} "
            "characters: give every node and gateway the same token"
        )
    return problems


def ray_start_arguments(arguments: argparse.Namespace) -> list[str]:
    """The `ray start` command line this node runs, blocking until it is stopped."""
    resources = node_resources(arguments.event_actors, hosts_local_chain=arguments.head)
    command = [
        sys.executable,
        "-m",
        "ray.scripts.scripts",
        "start",
        f"--resources={json.dumps(resources)}",
        "--disable-usage-stats",
    ]
    if arguments.address:
        command.append(f"--node-ip-address={arguments.address}")
    if not arguments.background:
        command.append("--block")
    if arguments.head:
        command += ["--head", f"--port={arguments.port}", "--include-dashboard=false"]
        if arguments.temp_dir:
            command.append(f"--temp-dir={arguments.temp_dir}")
    else:
        command.append(f"--address={arguments.join}")
    if arguments.num_cpus is not None:
        command.append(f"--num-cpus={arguments.num_cpus}")
    return command


def head_environment() -> dict[str, str]:
    """Ray's settings of the head that ours decide: how soon a dead node's events move."""
    return {
        "RAY_health_check_period_ms": str(limits.NODE_HEALTH_CHECK_INTERVAL_MS),
        "RAY_health_check_failure_threshold": str(limits.NODE_HEALTH_CHECK_FAILURES_MAX),
    }


def command_node(arguments: argparse.Namespace) -> int:
    problems = auth_problems(os.environ)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        print(f"onsale: cannot start a node:\n{listed}", file=sys.stderr)
        return 2
    command = ray_start_arguments(arguments)
    environment = os.environ | (head_environment() if arguments.head else {})
    os.execve(command[0], command, environment)
