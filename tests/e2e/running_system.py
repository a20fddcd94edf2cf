"""`onsale up` as an operator runs it, in a session of its own: started, waited for, signalled,
killed with its whole process group, and looked into (its runtime file, its processes, its parts).
"""

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import httpx
import psutil

from embedded.child_processes import is_running, processes_running, processes_working_in
from embedded.loopback import free_port
from embedded.runtime_file import read_runtime_file
from gateway.auth import Role, sign_development_token
from gateway.parts import Parts

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 90.0
READY_POLL_S = 0.5
TOKEN_TTL_S = 3_600
CONFIGURABLE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "RAY_ADDRESS",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "STRIPE_WEBHOOK_SECRET",
    "SMTP_URL",
    "ONSALE_ENV",
)
OUTPUT_TAIL_CHARACTERS = 4_000


class RunningSystem:
    def __init__(self, data_dir: pathlib.Path, extra_environment: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.log_path = data_dir.parent / f"onsale-up-{self.port}.log"
        environment = {k: v for k, v in os.environ.items() if k not in CONFIGURABLE_VARIABLES}
        environment |= {"ONSALE_DATA_DIR": str(data_dir), "ONSALE_PORT": str(self.port)}
        environment |= extra_environment
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "onsale.cli", "up"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._seen: dict[int, psutil.Process] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def readiness(self) -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{self.url}/health/ready", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, {}

    def wait_until_ready(self, timeout_s: float = READY_TIMEOUT_S) -> dict[str, object]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            status, body = self.readiness()
            if status == 200:
                self.descendants()
                return body
            time.sleep(READY_POLL_S)
        raise AssertionError(f"not ready after {timeout_s} s:\n{self.output()}")

    def descendants(self) -> list[psutil.Process]:
        """Every process this system runs, and every one seen before that may still run: the
        children of `onsale up` and the daemons working on its data directory."""
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self._seen.setdefault(child.pid, child)
        for candidate in psutil.process_iter(["cmdline"], ad_value=None):
            if any(str(self.data_dir) in part for part in candidate.info["cmdline"] or []):
                self._seen.setdefault(candidate.pid, candidate)
        for part, name in (("postgres", "postgres"), ("redis", "redis-server")):
            for process in processes_working_in(self.data_dir / part, name):
                self._seen.setdefault(process.pid, process)
        return list(self._seen.values())

    def stop(self, signal_number: signal.Signals) -> int:
        self.descendants()
        self.process.send_signal(signal_number)
        return self.process.wait(STOP_TIMEOUT_S)

    def kill_process_group(self) -> None:
        """`kill -9` of the whole process group of `onsale up`, as a crash of the machine's
        session would."""
        self.descendants()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-OUTPUT_TAIL_CHARACTERS:]
        except FileNotFoundError:
            return "(no output)"

    def runtime(self) -> dict[str, object]:
        return dict(json.loads((self.data_dir / "runtime.json").read_text()))

    def parts(self) -> Parts:
        return read_runtime_file(self.data_dir)

    def part_processes(self, part: str) -> list[psutil.Process]:
        """The processes of one embedded part, found as the runtime finds leftovers."""
        if part == "postgres":
            return processes_working_in(self.data_dir / "postgres", "postgres")
        if part == "redis":
            return processes_working_in(self.data_dir / "redis", "redis-server")
        if part == "stripe":
            store = self.data_dir / "stripe" / "localstripe.pickle"
            return processes_running("embedded.stripe_server", store)
        assert part == "smtp", part
        return processes_running("embedded.smtp_sink", self.data_dir / "mail")

    def main_process_of(self, part: str) -> psutil.Process:
        """The part's server process: for Postgres, the postmaster, the parent of the others."""
        processes = self.part_processes(part)
        pids = {process.pid for process in processes}
        mains = [process for process in processes if process.ppid() not in pids]
        assert len(mains) == 1, (part, processes)
        return mains[0]

    def token(self, *, roles: tuple[Role, ...] = (Role.FAN,), tenant_id: uuid.UUID) -> str:
        secret = self.parts().jwt_secret
        assert secret is not None
        return sign_development_token(
            secret,
            user_id=f"fan-{uuid.uuid4().hex[:12]}",
            tenant_id=tenant_id,
            roles=roles,
            ttl_s=TOKEN_TTL_S,
            now_s=int(time.time()),
        )

    def client(self, token: str, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}", **headers}, timeout=30
        )

    def end(self) -> list[str]:
        """Stop it whatever state it is in, and then whatever of it is left; what had to be
        killed after its own stop."""
        if self.process.poll() is None:
            self.descendants()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        left = [process for process in self.descendants() if is_running(process)]
        for process in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        return [str(process.pid) for process in left]


def still_running(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if is_running(process):
                alive.append(" ".join(process.cmdline()))
    return alive


def wait_until_gone(processes: list[psutil.Process], timeout_s: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while (alive := still_running(processes)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive
