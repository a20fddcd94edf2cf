"""SCAN: what a gate waits for its answer at `POST /v1/scan`, and how fast a gate verifies codes
with no network.

Online, `onsale up` runs as its own process (embedded Postgres and Redis unless DATABASE_URL and
REDIS_URL are set). TICKETS tickets are sold and paid through the API, TICKETS_PER_ORDER to a fan,
and each ticket's signing key is read from its `/code-key`, as the owner's app reads it. GATES
gates then scan distinct tickets, each on its own kept-alive connection, half with a staff token
and half with a scanner device's token the venue registered; every code is signed with the
current step just before it is sent, as a phone shows it. A paced run has each gate scan
PACED_SCANS_PER_GATE_PER_S times a second, twice the issue's 50 scans a second in all, and gives
the figures the target is judged on; a flat-out run, on tickets not scanned yet, has every gate
scan as soon as its last answer arrives, for the most the system answers. Each run times its
scans after a warm-up. Every scan must be answered admitted, and a second scan of GATES of those
tickets must be refused as already checked in.

Offline, one process verifies OFFLINE_TICKETS distinct tickets' codes against a manifest of
their public keys (as `GET /v1/venue/events/{id}/scan-manifest` lists them), as a gate does when
its connection is gone: read the payload, find the ticket's key, check the signature and step.
"""

import asyncio
import json
import os
import pathlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httpx
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from engine.ticket_qr import (
    QrVerdict,
    Unreadable,
    decode_base64url,
    encode_base64url,
    qr_step,
    read_qr,
)
from gateway.auth import Role, sign_development_token
from loadtests.bench_door import bounded, percentile_ms
from loadtests.bench_http import event_body, raw_request, running_system
from services.ticket_codes import sign_code, verify_code

TICKETS = 10_000
TICKETS_PER_ORDER = 100
ORDERS_AT_ONCE = 2
CODE_KEYS_READ_AT_ONCE = 8
SETUP_ATTEMPTS = 5
SETUP_RETRY_PAUSE_S = 1.0
GATES = 50
PACED_SCANS_PER_GATE_PER_S = 2.0
RUN_SECONDS = 10.0
WARM_UP_SECONDS = 2.0
OFFLINE_TICKETS = 10_000
TARGET_SCANS_PER_S = 50.0
TARGET_P99_MS = 100.0
TARGET_OFFLINE_PER_S = 1_000.0
TOKEN_TTL_S = 3_600
VISA = "4242424242424242"
ALREADY_CHECKED_IN = "already_checked_in"


class Ticket(msgspec.Struct, frozen=True):
    ticket_id: str
    seed: bytes


class Scan(msgspec.Struct, frozen=True):
    """One scan's answer: the ticket scanned, the result and reason answered, when the request
    was sent (monotonic seconds) and how long its answer took."""

    ticket_id: str
    result: str
    reason: str | None
    sent_at: float
    seconds: float


class Figures(msgspec.Struct, frozen=True, kw_only=True):
    scans_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    timed: int


def bearer(secret: str, user_id: str, role: Role, tenant_id: uuid.UUID) -> str:
    return "Bearer " + sign_development_token(
        secret,
        user_id=user_id,
        tenant_id=tenant_id,
        roles=(role,),
        ttl_s=TOKEN_TTL_S,
        now_s=int(time.time()),
    )


class Venue:
    """The venue's side of the set-up, and its fans buying over the API."""

    def __init__(self, client: httpx.AsyncClient, secret: str) -> None:
        self.client = client
        self.secret = secret
        self.tenant_id = uuid.uuid4()
        self.manager = {
            "Authorization": bearer(secret, "scan-manager", Role.VENUE_MANAGER, self.tenant_id)
        }
        self.staff = bearer(secret, "scan-staff", Role.VENUE_STAFF, self.tenant_id)
        self.retried = 0

    async def answer(self, method: str, path: str, headers: dict[str, str], **body: Any) -> Any:
        """The answer's body; an UNAVAILABLE (503, nothing changed) is tried again after a pause,
        as a client does, since a set-up this size can find Postgres's pool busy on two cores."""
        for _ in range(SETUP_ATTEMPTS - 1):
            response = await self.client.request(method, path, headers=headers, **body)
            if response.status_code != HTTPStatus.SERVICE_UNAVAILABLE:
                break
            self.retried += 1
            await asyncio.sleep(SETUP_RETRY_PAUSE_S)
        else:
            response = await self.client.request(method, path, headers=headers, **body)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    async def create_event(self) -> tuple[str, str]:
        """An event with no per-fan limit, so one order can carry TICKETS_PER_ORDER tickets."""
        body = json.loads(event_body())
        body["onsale"]["max_tickets_per_user"] = None
        created = await self.answer("POST", "/v1/venue/events", self.manager, json=body)
        return created["event_id"], created["ticket_types"][0]["id"]

    async def register_device(self, event_id: str, number: int) -> str:
        body = {"name": f"gate {number}", "event_ids": [event_id]}
        device = await self.answer("POST", "/v1/venue/devices", self.manager, json=body)
        return f"Bearer {device['device_token']}"

    async def buy(self, event_id: str, ticket_type_id: str) -> list[Ticket]:
        """A new fan's paid order of TICKETS_PER_ORDER tickets, with their signing keys."""
        fan = {
            "Authorization": bearer(
                self.secret, f"fan-{uuid.uuid4().hex[:12]}", Role.FAN, uuid.uuid4()
            )
        }
        items = {"items": [{"ticket_type_id": ticket_type_id, "quantity": TICKETS_PER_ORDER}]}
        hold = await self.answer("POST", f"/v1/events/{event_id}/holds", fan, json=items)
        order = await self.answer("POST", f"/v1/holds/{hold['hold_id']}/checkout", fan)
        paid = await self.answer(
            "POST", f"/v1/dev/orders/{order['order_id']}/pay", fan, json={"card": VISA}
        )
        return await bounded(
            CODE_KEYS_READ_AT_ONCE,
            [self.code_key(fan, ticket["ticket_id"]) for ticket in paid["tickets"]],
        )

    async def code_key(self, fan: dict[str, str], ticket_id: str) -> Ticket:
        key = await self.answer("GET", f"/v1/tickets/{ticket_id}/code-key", fan)
        seed = decode_base64url(key["signing_key"])
        assert seed is not None
        return Ticket(ticket_id=ticket_id, seed=seed)


def scan_request(event_id: str, authorization: str, ticket: Ticket, gate: int) -> bytes:
    """The scan of the ticket's code for the current step, signed as the owner's phone signs it."""
    payload = sign_code(
        seed=ticket.seed, ticket_id=ticket.ticket_id, step=qr_step(int(time.time() * 1_000))
    )
    body = msgspec.json.encode(
        {"event_id": event_id, "payload": payload, "device_id": f"gate-{gate}"}
    )
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    return raw_request("/v1/scan", headers, body)


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Send one request on a kept-alive connection; its status and body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return int(head[9:12]), await reader.readexactly(length)


class GateRun:
    """GATES gates scanning the tickets left in `tickets`, each ticket once, until the run ends
    or no ticket is left; `interval_s` apart per gate when paced, back to back when None."""

    def __init__(
        self, port: int, event_id: str, authorizations: list[str], tickets: list[Ticket]
    ) -> None:
        self.port = port
        self.event_id = event_id
        self.authorizations = authorizations
        self.tickets = tickets
        self.scanned: list[Ticket] = []
        self.scans: list[Scan] = []

    async def gate(self, number: int, interval_s: float | None, deadline: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        next_at = time.monotonic() + (interval_s or 0.0) * number / GATES
        try:
            while self.tickets:
                if interval_s is not None:
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                    next_at += interval_s
                if time.monotonic() >= deadline or not self.tickets:
                    return
                ticket = self.tickets.pop()
                self.scanned.append(ticket)
                request = scan_request(self.event_id, self.authorizations[number], ticket, number)
                sent_at = time.monotonic()
                status, body = await exchange(reader, writer, request)
                seconds = time.monotonic() - sent_at
                answer = json.loads(body) if status == 200 else {"result": f"http {status}"}
                self.scans.append(
                    Scan(ticket.ticket_id, answer["result"], answer.get("reason"), sent_at, seconds)
                )
        finally:
            writer.close()

    async def scan(self, interval_s: float | None, deadline: float) -> list[Scan]:
        """The scans of this run, in the order their answers arrived."""
        first = len(self.scans)
        await asyncio.gather(*(self.gate(number, interval_s, deadline) for number in range(GATES)))
        return self.scans[first:]

    async def run(self, interval_s: float | None) -> Figures:
        warm_until = time.monotonic() + WARM_UP_SECONDS
        return figures(await self.scan(interval_s, warm_until + RUN_SECONDS), warm_until)


async def scanned_again(gates: GateRun) -> bool:
    """Whether a second scan of tickets already in, one at each gate, is refused as checked in:
    the admissions counted here are the server's, not only the answers' tally."""
    again = GateRun(gates.port, gates.event_id, gates.authorizations, gates.scanned[:GATES])
    scans = await again.scan(None, deadline=float("inf"))
    refused = [scan.reason == ALREADY_CHECKED_IN for scan in scans]
    print(f"scanned again: {sum(refused)} of {len(scans)} refused as {ALREADY_CHECKED_IN}")
    return len(scans) == GATES and all(refused)


def figures(scans: list[Scan], warm_until: float) -> Figures:
    """Scans/s, latencies and count of the scans sent after the warm-up."""
    timed = [scan for scan in scans if scan.sent_at >= warm_until]
    assert timed, "no scan after the warm-up"
    ended = max(scan.sent_at + scan.seconds for scan in timed)
    seconds = [scan.seconds for scan in timed]
    return Figures(
        scans_per_s=len(timed) / (ended - warm_until),
        p50_ms=statistics.median(seconds) * 1_000,
        p99_ms=percentile_ms(seconds, 0.99),
        max_ms=max(seconds) * 1_000,
        timed=len(timed),
    )


def admitted_once(scans: list[Scan]) -> bool:
    """Every scan answered admitted, and no ticket scanned twice."""
    unadmitted = [scan for scan in scans if scan.result != "admitted"]
    for scan in unadmitted[:5]:
        print(f"not admitted: {scan.ticket_id} {scan.result} {scan.reason}")
    return not unadmitted and len({scan.ticket_id for scan in scans}) == len(scans)


async def sold_tickets(venue: Venue) -> tuple[str, list[Ticket]]:
    event_id, ticket_type_id = await venue.create_event()
    orders = await bounded(
        ORDERS_AT_ONCE,
        [venue.buy(event_id, ticket_type_id) for _ in range(TICKETS // TICKETS_PER_ORDER)],
    )
    return event_id, [ticket for order in orders for ticket in order]


async def online(port: int, base_url: str, secret: str) -> tuple[Figures, Figures, bool]:
    """The paced run's figures, the flat-out run's, and whether every scan admitted once."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        venue = Venue(client, secret)
        started = time.monotonic()
        event_id, tickets = await sold_tickets(venue)
        devices = [await venue.register_device(event_id, number) for number in range(GATES // 2)]
        print(
            f"set-up: {len(tickets)} tickets sold and their keys read, {len(devices)} devices "
            f"registered in {time.monotonic() - started:.0f} s ({venue.retried} requests retried)"
        )
    authorizations = [venue.staff] * (GATES - len(devices)) + devices
    gates = GateRun(port, event_id, authorizations, tickets)
    paced = await gates.run(1.0 / PACED_SCANS_PER_GATE_PER_S)
    flat_out = await gates.run(None)
    print(f"tickets={TICKETS} sold over the API, scanned={len(gates.scans)}, left={len(tickets)}")
    admitted = admitted_once(gates.scans)
    return paced, flat_out, await scanned_again(gates) and admitted


def manifest_and_codes(count: int, now_ms: int) -> tuple[dict[str, str], list[str]]:
    """`count` new tickets as a scan manifest lists them (ticket id → public key, base64url) and
    each one's code of the step of `now_ms`, signed with its own key as its owner's phone signs."""
    manifest: dict[str, str] = {}
    codes = []
    for _ in range(count):
        ticket_id = str(uuid.uuid4())
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        manifest[ticket_id] = encode_base64url(public)
        seed = key.private_bytes_raw()
        codes.append(sign_code(seed=seed, ticket_id=ticket_id, step=qr_step(now_ms)))
    return manifest, codes


def verify_offline(manifest: dict[str, str], codes: list[str], now_ms: int) -> int:
    """How many codes a gate holding only the manifest finds genuine."""
    keys = {ticket_id: decode_base64url(key) for ticket_id, key in manifest.items()}
    genuine = 0
    for code in codes:
        claims = read_qr(code)
        if isinstance(claims, Unreadable):
            continue
        key = keys.get(claims.ticket_id)
        if key is None:
            continue
        verdict = verify_code(public_key=key, payload=claims, now_ms=now_ms)
        genuine += verdict == QrVerdict.GENUINE
    return genuine


def offline(count: int, clock: Callable[[], float] = time.perf_counter) -> tuple[float, int]:
    """Verifications per second over `count` distinct tickets, and how many were genuine."""
    now_ms = int(time.time() * 1_000)
    manifest, codes = manifest_and_codes(count, now_ms)
    started = clock()
    genuine = verify_offline(manifest, codes, now_ms)
    return count / (clock() - started), genuine


def summary(paced: Figures, offline_per_s: float, correct: bool) -> str:
    verdict = (
        correct
        and paced.scans_per_s >= TARGET_SCANS_PER_S
        and paced.p99_ms <= TARGET_P99_MS
        and offline_per_s >= TARGET_OFFLINE_PER_S
    )
    return (
        f"SCAN scans_per_s={paced.scans_per_s:.0f} p50_ms={paced.p50_ms:.1f} "
        f"p99_ms={paced.p99_ms:.1f} offline_verifications_per_s={offline_per_s:,.0f} "
        f"target=p99<={TARGET_P99_MS:.0f}ms@>={TARGET_SCANS_PER_S:.0f}/s,"
        f"offline>={TARGET_OFFLINE_PER_S:,.0f}/s,all_admitted_once "
        f"{'ok' if verdict else 'short'}"
    )


def main() -> int:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    offline_per_s, genuine = offline(OFFLINE_TICKETS)
    with (
        tempfile.TemporaryDirectory(prefix="onsale-bench-scan-") as directory,
        running_system(pathlib.Path(directory)) as system,
    ):
        paced, flat_out, correct = asyncio.run(
            online(system.port, system.base_url, system.jwt_secret)
        )
    for name, run in (("paced", paced), ("flat_out", flat_out)):
        print(
            f"{name} gates={GATES} scans={run.timed} scans_per_s={run.scans_per_s:.0f} "
            f"p50_ms={run.p50_ms:.1f} p99_ms={run.p99_ms:.1f} max_ms={run.max_ms:.1f}"
        )
    print(f"offline tickets={OFFLINE_TICKETS} genuine={genuine} per_s={offline_per_s:,.0f}")
    line = summary(paced, offline_per_s, correct and genuine == OFFLINE_TICKETS)
    print(line)
    return 0 if line.endswith(" ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())
