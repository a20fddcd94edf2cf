"""`onsale up` as an operator runs it: every part starts, answers ready, stops on a signal, and a
second start on the same data directory finds the data as it was."""

import asyncio
import contextlib
import pathlib
import signal
import smtplib
import urllib.parse
import urllib.request
import uuid

import asyncpg
import psutil
import pytest

from tests.e2e.conftest import StartSystem
from tests.e2e.running_system import wait_until_gone

# Nothing `onsale up` starts listens beyond this machine: Ray's servers included.
LOOPBACK_ADDRESSES = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}

pytestmark = pytest.mark.slow


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


def test_data_survives_a_restart_when_onsale_up_stops_on_a_signal(
    tmp_path: pathlib.Path, start_system: StartSystem
) -> None:
    data_dir = tmp_path / "var"
    tenant_id = uuid.uuid4()

    first = start_system(data_dir)
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

    second = start_system(data_dir)
    second.wait_until_ready()
    assert asyncio.run(read_tenant_name(second.runtime()["database_url"], tenant_id)) == (
        "Restart Arena"
    )
    processes = second.descendants()
    assert second.stop(signal.SIGINT) == 0, second.output()
    assert wait_until_gone(processes) == []


def test_configured_parts_replace_embedded_ones_when_their_urls_are_set(
    tmp_path: pathlib.Path, empty_database_url: str, redis_url: str, start_system: StartSystem
) -> None:
    data_dir = tmp_path / "var"
    system = start_system(data_dir, {"DATABASE_URL": empty_database_url, "REDIS_URL": redis_url})
    system.wait_until_ready()
    runtime = system.runtime()
    assert sorted(runtime["embedded"]) == ["ray", "smtp", "solana", "stripe"]
    assert runtime["database_url"] == empty_database_url
    assert runtime["redis_url"] == redis_url
    assert not (data_dir / "postgres").exists() and not (data_dir / "redis").exists()
    assert system.stop(signal.SIGTERM) == 0, system.output()
