"""`onsale up` as an operator runs it: every part starts, answers ready, stops on a signal, and a
second start on the same data directory finds the data as it was."""

import asyncio
import contextlib
import json
import os
import pathlib
import signal
import smtplib
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import asyncpg
import psutil
import pytest

from gateway.embedded import free_port

READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 90.0
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

# Nothing `onsale up` starts listens beyond this machine: Ray's servers included.
LOOPBACK_ADDRESSES = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}

pytestmark = pytest.mark.slow


class RunningSystem:
    def __init__(self, data_dir: pathlib.Path, extra_environment: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items() if k not in CONFIGURABLE_VARIABLES}
        environment |= {"ONSALE_DATA_DIR": str(data_dir), "ONSALE_PORT": str(self.port)}
        environment |= extra_environment
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "up"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

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

    def wait_until_ready(self) -> dict[str, object]:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            status, body = self.readiness()
            if status == 200:
                return body
            time.sleep(0.5)
        self.process.kill()
        raise AssertionError(f"not ready after {READY_TIMEOUT_S} s:\n{self.output()}")

    def descendants(self) -> list[psutil.Process]:
        """Every process this system runs: children of `onsale up` and daemons on its data dir."""
        found = {child.pid: child for child in psutil.Process(self.process.pid).children(True)}
        for candidate in psutil.process_iter(["cmdline"]):
            if any(str(self.data_dir) in part for part in candidate.info["cmdline"] or []):
                found.setdefault(candidate.pid, candidate)
        return list(found.values())

    def stop(self, signal_number: signal.Signals) -> int:
        self.process.send_signal(signal_number)
        return self.process.wait(STOP_TIMEOUT_S)

    def output(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stdout is not None
        return self.process.stdout.read().decode(errors="replace")[-4000:]

    def runtime(self) -> dict[str, object]:
        return json.loads((self.data_dir / "runtime.json").read_text())


def still_running(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            continue
    return alive


def listening_addresses(processes: list[psutil.Process]) -> set[str]:
    """Where the processes accept TCP connections."""
    addresses = set()
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            addresses |= {
                connection.laddr.ip
                for connection in process.net_connections("inet")
                if connection.status == psutil.CONN_LISTEN
            }
    return addresses


def wait_until_gone(processes: list[psutil.Process], timeout_s: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while (alive := still_running(processes)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


async def write_tenant(database_url: str, tenant_id: uuid.UUID) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "insert into tenants (id, name) values ($1, $2)", tenant_id, "Restart Arena"
        )
    finally:
        await connection.close()


async def read_tenant_name(database_url: str, tenant_id: uuid.UUID) -> str | None:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval("select name from tenants where id = $1", tenant_id)
    finally:
        await connection.close()


def send_mail(smtp_url: str) -> None:
    address = urllib.parse.urlsplit(smtp_url)
    assert address.scheme == "smtp" and address.hostname and address.port
    with smtplib.SMTP(address.hostname, address.port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], "Subject: hello\r\n\r\nhi\r\n")


def test_data_survives_a_restart_when_onsale_up_stops_on_a_signal(tmp_path: pathlib.Path) -> None:
    data_dir = tmp_path / "var"
    tenant_id = uuid.uuid4()

    first = RunningSystem(data_dir, {})
    body = first.wait_until_ready()
    assert body["checks"] == {"postgres": "ok", "redis": "ok", "ray": "ok"}
    runtime = first.runtime()
    assert sorted(runtime["embedded"]) == ["postgres", "ray", "redis", "smtp", "solana", "stripe"]
    send_mail(str(runtime["smtp_url"]))
    assert len(list((data_dir / "mail").glob("*.eml"))) == 1
    with urllib.request.urlopen(f"{first.url}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    assert 'onsale_http_requests_total{method="GET",route="/health/ready",status="200"}' in metrics
    with urllib.request.urlopen(f"{runtime['metrics_url']}/metrics", timeout=10) as response:
        private_metrics = response.read().decode()
    assert 'onsale_http_requests_total{method="GET",route="/metrics",status="200"}' in (
        private_metrics
    )
    assert str(runtime["ray_address"]).startswith("127.0.0.1:")
    assert listening_addresses(first.descendants()) <= LOOPBACK_ADDRESSES
    asyncio.run(write_tenant(runtime["database_url"], tenant_id))
    processes = first.descendants()
    assert first.stop(signal.SIGTERM) == 0, first.output()
    assert wait_until_gone(processes) == []
    assert not (data_dir / "runtime.json").exists()

    second = RunningSystem(data_dir, {})
    second.wait_until_ready()
    assert asyncio.run(read_tenant_name(second.runtime()["database_url"], tenant_id)) == (
        "Restart Arena"
    )
    processes = second.descendants()
    assert second.stop(signal.SIGINT) == 0, second.output()
    assert wait_until_gone(processes) == []


def test_configured_parts_replace_embedded_ones_when_their_urls_are_set(
    tmp_path: pathlib.Path, empty_database_url: str, redis_url: str
) -> None:
    data_dir = tmp_path / "var"
    system = RunningSystem(data_dir, {"DATABASE_URL": empty_database_url, "REDIS_URL": redis_url})
    system.wait_until_ready()
    runtime = system.runtime()
    assert sorted(runtime["embedded"]) == ["ray", "smtp", "solana", "stripe"]
    assert runtime["database_url"] == empty_database_url
    assert runtime["redis_url"] == redis_url
    assert not (data_dir / "postgres").exists() and not (data_dir / "redis").exists()
    assert system.stop(signal.SIGTERM) == 0, system.output()
