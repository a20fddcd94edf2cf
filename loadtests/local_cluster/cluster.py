"""The local cluster's processes: started in order, looked into, killed one at a time as a
machine's death would, and ended whole.

Every part listens on the host address of the node network, never on the loopback: the second
node reaches Postgres, Redis, the Stripe server and the SMTP sink there, as another machine would.
The nodes and gateways share one Ray token, the gateways one Postgres database, from which they
read the same shared secrets.
"""

import asyncio
import contextlib
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import msgspec
import psutil

from embedded.loopback import free_port
from embedded.runtime_file import read_runtime_file
from embedded.stripe_part import StripeWebhook, register_stripe_webhook
from gateway.parts import Parts
from loadtests.local_cluster.balancer import (
    BalancerPorts,
    Gateway,
    gateway_states,
    haproxy_configuration,
    start_haproxy,
)
from loadtests.local_cluster.network import NodeNetwork
from loadtests.local_cluster.ray_view import ClusterView
from persistence.scratch_databases import create_database, drop_database

MACHINE_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_DATABASE = 3
STRIPE_KEY = "sk_test_onsale_cluster"
STRIPE_WEBHOOK_PATH = "/v1/webhooks/stripe"
READY_TIMEOUT_S = 180.0
POLL_S = 0.25
STOP_TIMEOUT_S = 30.0
GENEROUS_RATE_LIMITS = {
    "ONSALE_RATE_LIMIT_ADDRESS_PER_S": "1000000",
    "ONSALE_RATE_LIMIT_FAN_PER_S": "1000000",
}


class ClusterTimeout(AssertionError):
    pass


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(POLL_S)
    raise ClusterTimeout(f"{what} not ready after {timeout_s} s")


def port_open(address: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=1):
        return True
    return False


def answers_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class LocalCluster:
    """Start with `start()`, end with `end()` whatever happened in between."""

    def __init__(self, gateways: int = 2) -> None:
        self.network = NodeNetwork.for_process()
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="oc", dir="/tmp"))
        self.ray_token = secrets.token_hex(24)
        self.ray_port = free_port()
        self.balancer_ports = BalancerPorts(
            fans=free_port(), postgres=free_port(), redis=free_port()
        )
        self.stripe_port = free_port()
        self.smtp_port = free_port()
        self.webhook_secret = "whsec_" + secrets.token_hex(16)
        address = self.network.host_address
        self.gateways = [
            Gateway(name=f"gateway-{index}", address=address, port=free_port())
            for index in range(1, gateways + 1)
        ]
        self.database_url = ""
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def balancer_url(self) -> str:
        return f"http://{self.network.host_address}:{self.balancer_ports.fans}"

    def gateway_url(self, gateway: Gateway) -> str:
        return f"http://{gateway.address}:{gateway.port}"

    @property
    def ray_address(self) -> str:
        return f"{self.network.host_address}:{self.ray_port}"

    @property
    def stats_socket(self) -> pathlib.Path:
        return self.directory / "haproxy.sock"

    def balancer_states(self) -> dict[str, str]:
        """Each gateway's state as HAProxy sees it, by name."""
        try:
            return gateway_states(self.stats_socket)
        except OSError:
            return {}

    @property
    def mail_directory(self) -> pathlib.Path:
        return self.directory / "mail"

    def start(self) -> None:
        self.network.create()
        host = self.network.host_address
        self.database_url = asyncio.run(create_database(MACHINE_POSTGRES_URL, "onsale_cluster"))
        self._processes["haproxy"] = start_haproxy(
            haproxy_configuration(host, self.balancer_ports, self.gateways, self.stats_socket),
            self.directory,
        )
        wait_for(lambda: port_open(host, self.balancer_ports.postgres), "the relays")
        self._start_outside_parts()
        self._start("head", self._node_command("--head", f"--port={self.ray_port}"))
        self._wait_while_running("head", lambda: port_open(host, self.ray_port))
        self.start_second_node()
        for gateway in self.gateways:
            self.start_gateway(gateway)
        for gateway in self.gateways:
            self.wait_for_gateway(gateway)
        wait_for(lambda: set(self.balancer_states().values()) == {"UP"}, "the balancer's gateways")

    def _start_outside_parts(self) -> None:
        host = self.network.host_address
        stripe_store = self.directory / "stripe" / "localstripe.pickle"
        stripe_store.parent.mkdir()
        self._start(
            "stripe",
            [
                *(sys.executable, "-m", "embedded.stripe_server", "--host", host),
                *("--port", str(self.stripe_port), "--store", str(stripe_store)),
            ],
        )
        self._start(
            "smtp",
            [
                *(sys.executable, "-m", "embedded.smtp_sink", "--host", host),
                *("--port", str(self.smtp_port), "--directory", str(self.mail_directory)),
            ],
        )
        wait_for(lambda: port_open(host, self.stripe_port), "the Stripe server")
        wait_for(lambda: port_open(host, self.smtp_port), "the SMTP sink")
        register_stripe_webhook(
            f"http://{host}:{self.stripe_port}",
            StripeWebhook(url=self.balancer_url + STRIPE_WEBHOOK_PATH, secret=self.webhook_secret),
        )

    def _node_command(self, *role: str) -> list[str]:
        address = self.network.host_address if "--head" in role else self.network.node_address
        command = [sys.executable, "-m", "onsale.cli", "node", *role, "--address", address]
        if "--head" in role:
            command.append(f"--temp-dir={self.directory / 'ray'}")
        return command

    def start_second_node(self) -> None:
        """The second Ray node, in its namespace; returns once the head counts it alive."""
        self._start(
            "node-2",
            self.network.command_inside(
                [*self._node_command("--join", self.ray_address), "--num-cpus=1"]
            ),
        )
        self._wait_while_running(
            "node-2", lambda: self.view().nodes.get(self.network.node_address) is True
        )

    def gateway_environment(self, gateway: Gateway) -> dict[str, str]:
        host = self.network.host_address
        return {
            "ONSALE_HOST": gateway.address,
            "ONSALE_PORT": str(gateway.port),
            "ONSALE_DATA_DIR": str(self.directory / gateway.name),
            "DATABASE_URL": self.database_url.replace(
                "127.0.0.1:5432", f"{host}:{self.balancer_ports.postgres}"
            ),
            "REDIS_URL": f"redis://{host}:{self.balancer_ports.redis}/{REDIS_DATABASE}",
            "RAY_ADDRESS": self.ray_address,
            "STRIPE_API_KEY": STRIPE_KEY,
            "STRIPE_API_BASE": f"http://{host}:{self.stripe_port}",
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "SMTP_URL": f"smtp://{host}:{self.smtp_port}",
            "ONSALE_TRUSTED_PROXIES": host,
            **GENEROUS_RATE_LIMITS,
        }

    def start_gateway(self, gateway: Gateway) -> None:
        self._start(
            gateway.name,
            [sys.executable, "-m", "onsale.cli", "up"],
            self.gateway_environment(gateway),
        )

    def wait_for_gateway(self, gateway: Gateway) -> None:
        self._wait_while_running(gateway.name, lambda: answers_ready(self.gateway_url(gateway)))

    def _wait_while_running(self, name: str, condition: Callable[[], bool]) -> None:
        """Wait for `condition`, failing at once with its log if the process `name` exits."""
        process = self._processes[name]

        def met() -> bool:
            assert process.poll() is None, f"{name} exited:\n{self.log_tail(name)}"
            return condition()

        wait_for(met, name)

    def _start(self, name: str, command: list[str], extra: dict[str, str] | None = None) -> None:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "REDIS_", "RAY_", "STRIPE_", "SMTP_", "ONSALE_"))
            or key == "ONSALE_CI_RUN"
        }
        environment |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.ray_token}
        environment |= extra or {}
        log = (self.directory / f"{name}.log").open("ab")
        self._processes[name] = subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_tail(self, name: str, characters: int = 4_000) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")[-characters:]

    def view(self) -> ClusterView:
        """The nodes and named actors as Ray's control plane sees them."""
        answer = subprocess.run(
            [sys.executable, "-m", "loadtests.local_cluster.ray_view", self.ray_address],
            env=os.environ | {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.ray_token},
            capture_output=True,
            timeout=60,
            check=False,
        )
        if answer.returncode != 0:
            return ClusterView(nodes={}, actors={})
        return msgspec.json.decode(answer.stdout, type=ClusterView)

    def parts(self) -> Parts:
        """What the first gateway resolved: its secrets are every gateway's."""
        return read_runtime_file(self.directory / self.gateways[0].name)

    def kill_second_node(self) -> list[int]:
        """`kill -9` of every process of the second node, as the death of its machine."""
        return self.network.kill_everything_inside()

    def gateway_process_ids(self) -> set[int]:
        """The gateways' `onsale up` processes and their children."""
        pids = set()
        for gateway in self.gateways:
            process = psutil.Process(self._processes[gateway.name].pid)
            pids |= {process.pid} | {child.pid for child in process.children(recursive=True)}
        return pids

    def kill_gateway(self, gateway: Gateway) -> None:
        os.killpg(self._processes[gateway.name].pid, signal.SIGKILL)
        self._processes[gateway.name].wait()

    def end(self) -> None:
        """Stop everything this cluster started, whatever state it is in, and leave nothing."""
        for name in reversed(list(self._processes)):
            process = self._processes[name]
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self._kill_leftovers()
        self.network.delete()
        if self.database_url:
            asyncio.run(drop_database(MACHINE_POSTGRES_URL, self.database_url))
        shutil.rmtree(self.directory, ignore_errors=True)

    def _kill_leftovers(self) -> None:
        """Ray's processes whose command line names this cluster's directory or address."""
        marks = (str(self.directory), self.ray_address)
        for process in psutil.process_iter(["cmdline"], ad_value=None):
            command = " ".join(process.info["cmdline"] or [])
            if any(mark in command for mark in marks):
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
