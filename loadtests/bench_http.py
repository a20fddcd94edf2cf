"""B2: holds/s end to end over HTTP and their p99, against a trivial FastAPI endpoint.

Both servers run as their own processes on this machine, one uvicorn worker each, and both are
driven by the same load generator in this process with the same number of concurrent clients for
the same time. The gateway is `onsale up` itself (embedded Postgres and Redis unless DATABASE_URL
and REDIS_URL are set); each hold is a new fan's, so no per-fan limit is reached, and the rate
limits are raised because every client shares one address. A hold counts when its 201 arrived.
"""

import asyncio
import contextlib
import datetime
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator

import httpx
import msgspec

from embedded.loopback import free_port
from embedded.runtime_file import read_runtime_file
from gateway.auth import Role, sign_development_token

CONCURRENT_CLIENTS = 64
RUN_SECONDS = 10.0
WARM_UP_SECONDS = 2.0
CAPACITY = 1_000_000
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0
READY_TIMEOUT_S = 180.0
TOKEN_TTL_S = 3_600
# Each hold is a new fan's with its own Idempotency-Key; a run never sends one request twice.
REQUESTS_MAX = 200_000


def wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server at {url} exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {READY_TIMEOUT_S:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def raw_request(path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One HTTP/1.1 request, encoded once before the run so the generator spends no time on it."""
    lines = [f"POST {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request on a kept-alive connection; its status once the whole answer is read."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def drive(port: int, requests: list[bytes], host: str = "127.0.0.1") -> list[float]:
    """Send the requests from CONCURRENT_CLIENTS kept-alive connections; the latency of every
    201 after the warm-up, in seconds. A plain asyncio client: an HTTP library's own cost would
    cap both sides at the generator's speed and hide the servers'."""
    latencies: list[float] = []
    next_request = 0
    warm_until = time.monotonic() + WARM_UP_SECONDS
    deadline = warm_until + RUN_SECONDS

    async def one_client() -> None:
        nonlocal next_request
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.monotonic() < deadline and next_request < len(requests):
                request = requests[next_request]
                next_request += 1
                started = time.monotonic()
                if await send(reader, writer, request) == 201 and started >= warm_until:
                    latencies.append(time.monotonic() - started)
        finally:
            writer.close()

    await asyncio.gather(*(one_client() for _ in range(CONCURRENT_CLIENTS)))
    return latencies


def p99_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1_000


def event_body() -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    return httpx.Request(
        "POST",
        "http://x",
        json={
            "name": "Benchmark night",
            "venue_name": "Arena",
            "starts_at": (now + datetime.timedelta(days=30)).isoformat(),
            "ends_at": (now + datetime.timedelta(days=30, hours=3)).isoformat(),
            "currency": "USD",
            "onsale": {
                "opens_at": (now - datetime.timedelta(minutes=1)).isoformat(),
                "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
            },
            "ticket_types": [
                {
                    "key": "GA",
                    "name": "General",
                    "kind": "general",
                    "price_cents": 5_000,
                    "capacity": CAPACITY,
                }
            ],
        },
    ).read()


def hold_requests(secret: str, event_id: str, ticket_type_id: str) -> list[bytes]:
    tenant_id = uuid.uuid4()
    now_s = int(time.time())
    body = f'{{"items":[{{"ticket_type_id":"{ticket_type_id}","quantity":1}}]}}'.encode()
    return [
        raw_request(
            f"/v1/events/{event_id}/holds",
            {
                "Authorization": "Bearer "
                + sign_development_token(
                    secret,
                    user_id=f"fan-{number}",
                    tenant_id=tenant_id,
                    roles=(Role.FAN,),
                    ttl_s=TOKEN_TTL_S,
                    now_s=now_s,
                ),
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            },
            body,
        )
        for number in range(REQUESTS_MAX)
    ]


class RunningSystem(msgspec.Struct, frozen=True, kw_only=True):
    port: int
    base_url: str
    jwt_secret: str


@contextlib.contextmanager
def running_system(data_dir: pathlib.Path) -> Iterator[RunningSystem]:
    """`onsale up` on `data_dir` with the rate limits raised (every client shares one address),
    ready to serve until the block ends."""
    port = free_port()
    environment = os.environ | {
        "ONSALE_DATA_DIR": str(data_dir),
        "ONSALE_PORT": str(port),
        "ONSALE_LOG_LEVEL": "WARNING",
        "ONSALE_RATE_LIMIT_FAN_PER_S": "1000000",
        "ONSALE_RATE_LIMIT_ADDRESS_PER_S": "1000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "onsale.cli", "up"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base_url}/health/ready", process)
        secret = read_runtime_file(data_dir).jwt_secret
        assert secret is not None
        yield RunningSystem(port=port, base_url=base_url, jwt_secret=secret)
    finally:
        stop(process)


def measure_gateway(data_dir: pathlib.Path) -> list[float]:
    with running_system(data_dir) as system:
        venue_token = sign_development_token(
            system.jwt_secret,
            user_id="bench-venue",
            tenant_id=uuid.uuid4(),
            roles=(Role.VENUE_MANAGER,),
            ttl_s=TOKEN_TTL_S,
            now_s=int(time.time()),
        )
        created = httpx.post(
            f"{system.base_url}/v1/venue/events",
            content=event_body(),
            headers={"Authorization": f"Bearer {venue_token}", "Content-Type": "application/json"},
            timeout=60,
        )
        assert created.status_code == 201, created.text
        event = created.json()
        requests = hold_requests(
            system.jwt_secret, event["event_id"], event["ticket_types"][0]["id"]
        )
        return asyncio.run(drive(system.port, requests))


def measure_trivial_endpoint() -> list[float]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "loadtests.trivial_app:app",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base_url}/health", process)
        ping = raw_request("/ping", {"Content-Type": "application/json"}, b'{"ping":1}')
        requests = [ping] * REQUESTS_MAX
        return asyncio.run(drive(port, requests))
    finally:
        stop(process)


def main() -> int:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="onsale-bench-http-") as directory:
        holds = measure_gateway(pathlib.Path(directory))
    trivial = measure_trivial_endpoint()
    holds_per_s = len(holds) / RUN_SECONDS
    trivial_per_s = len(trivial) / RUN_SECONDS
    ratio = holds_per_s / trivial_per_s
    holds_p99_ms = p99_ms(holds)
    print(f"clients={CONCURRENT_CLIENTS} seconds={RUN_SECONDS:.0f} each side, after a warm-up")
    print(f"gateway holds_per_s={holds_per_s:,.0f} p99_ms={holds_p99_ms:.1f} (durable 201s)")
    print(f"trivial requests_per_s={trivial_per_s:,.0f} p99_ms={p99_ms(trivial):.1f}")
    verdict = "ok" if ratio >= TARGET_RATIO and holds_p99_ms <= TARGET_P99_MS else "short"
    print(
        f"B2 ratio={ratio:.2f} p99_ms={holds_p99_ms:.1f} "
        f"target={TARGET_RATIO} p99<={TARGET_P99_MS:.0f}ms {verdict}"
    )
    return 0 if verdict == "ok" else 1
