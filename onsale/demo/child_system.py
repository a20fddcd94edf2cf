"""The system under demonstration: `onsale up` as a child process, booted, waited for until
ready, and stopped with SIGINT as an operator would stop it.

Its logs go to a file in the data directory so the live view stays readable. Every simulated fan
comes from this machine's one address, so the address rate limit is raised for the child unless
the operator set it; the per-fan limit stays as configured.

Ray starts its workers at niceness 15, below the gateway, Postgres and the driver. On a machine
they all share, a busy CPU then starves the event's InventoryActor and WaitingRoomActor, which
every hold and join waits for; the child's Ray workers run at the others' niceness instead,
unless the operator set `RAY_worker_niceness`.
"""

import os
import signal
import socket
import subprocess
import sys
import time

from embedded.runtime_file import read_runtime_file
from gateway.parts import Parts
from gateway.settings import Settings
from loadtests.running_system import readiness

READY_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 120.0
READY_POLL_S = 0.5
LOG_FILE_NAME = "demo-onsale-up.log"
LOG_TAIL_CHARACTERS = 3_000
ADDRESS_RATE_VARIABLE = "ONSALE_RATE_LIMIT_ADDRESS_PER_S"
# One address stands for every fan of the demo, so its bucket must not be what limits them.
DEMO_ADDRESS_RATE_PER_S = "1000000"
RAY_WORKER_NICENESS_VARIABLE = "RAY_worker_niceness"
DEMO_RAY_WORKER_NICENESS = "0"


class SystemDidNotStart(Exception):
    """`onsale up` exited, or did not answer ready in time; the message says which."""


def port_is_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


class ChildSystem:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.gateway_url = f"http://{settings.host}:{settings.port}"
        self.log_path = settings.data_path / LOG_FILE_NAME
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> tuple[Parts, float, dict[str, object]]:
        """Boot `onsale up` and wait until it is ready: its parts, seconds to ready, checks."""
        settings = self._settings
        if port_is_taken(settings.host, settings.port):
            raise SystemDidNotStart(
                f"{settings.host}:{settings.port} is already in use (another `onsale up`?); "
                "stop it or set ONSALE_PORT"
            )
        settings.data_path.mkdir(parents=True, exist_ok=True)
        environment = os.environ.copy()
        environment.setdefault(ADDRESS_RATE_VARIABLE, DEMO_ADDRESS_RATE_PER_S)
        environment.setdefault(RAY_WORKER_NICENESS_VARIABLE, DEMO_RAY_WORKER_NICENESS)
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "onsale.cli", "up"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        while time.monotonic() - started < READY_TIMEOUT_S:
            if self._process.poll() is not None:
                raise SystemDidNotStart(
                    f"onsale up exited with {self._process.returncode}:\n{self.log_tail()}"
                )
            status, body = readiness(self.gateway_url)
            if status == 200:
                parts = read_runtime_file(settings.data_path)
                return parts, time.monotonic() - started, dict(body.get("checks", {}))
            time.sleep(READY_POLL_S)
        self.stop()
        raise SystemDidNotStart(f"not ready after {READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int | None:
        """The process of `onsale up`, under which every part of the system runs."""
        return None if self._process is None else self._process.pid

    def stop(self) -> int | None:
        """Stop with SIGINT and wait; the exit status, or None when it had to be killed."""
        process = self._process
        if process is None:
            return 0
        self._process = None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            return process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARACTERS:]
        except FileNotFoundError:
            return "(no log)"
