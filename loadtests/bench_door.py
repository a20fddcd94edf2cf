"""DOOR: the doors open while the chain is down; what a scan costs, and whether every fan gets in.

`onsale up` runs as its own process (embedded Postgres and Redis unless DATABASE_URL and REDIS_URL
are set). Its embedded chain is stopped before the sale and stays stopped through the whole entry
run: TICKETS fans each buy a ticket, and gates scan every code, GATES at a time, each scan timed
from request to answer. Only then does the chain come back, and the run waits until every NFT has
landed (the mints are failed work by then, retried by the venue through the API). It prints the
scans' p50 and p99, how many were admitted, how many mints were pending during the entry run, and
how long the NFTs took to land once the chain was back.
"""

import asyncio
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import httpx

from gateway.auth import Role, sign_development_token
from loadtests.bench_http import event_body, running_system

TICKETS = 100
GATES = 4
FANS_BUYING_AT_ONCE = 10
TOKEN_TTL_S = 3_600
LANDING_TIMEOUT_S = 300.0
POLL_INTERVAL_S = 1.0
VISA = "4242424242424242"


class Door:
    def __init__(self, client: httpx.AsyncClient, secret: str) -> None:
        self.client = client
        self.secret = secret
        self.tenant_id = uuid.uuid4()
        self.manager = self.bearer("door-manager", Role.VENUE_MANAGER, self.tenant_id)
        self.staff = self.bearer("door-staff", Role.VENUE_STAFF, self.tenant_id)

    def bearer(self, user_id: str, role: Role, tenant_id: uuid.UUID) -> dict[str, str]:
        token = sign_development_token(
            self.secret,
            user_id=user_id,
            tenant_id=tenant_id,
            roles=(role,),
            ttl_s=TOKEN_TTL_S,
            now_s=int(time.time()),
        )
        return {"Authorization": f"Bearer {token}"}

    async def answer(self, method: str, path: str, headers: dict[str, str], **body: Any) -> Any:
        response = await self.client.request(method, path, headers=headers, **body)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    async def create_event(self) -> tuple[str, str]:
        created = await self.answer(
            "POST",
            "/v1/venue/events",
            self.manager | {"Content-Type": "application/json"},
            content=event_body(),
        )
        return created["event_id"], created["ticket_types"][0]["id"]

    async def buy(self, event_id: str, ticket_type_id: str) -> tuple[dict[str, str], str]:
        """A new fan's paid ticket: the fan's headers and the ticket's id."""
        fan = self.bearer(f"fan-{uuid.uuid4().hex[:12]}", Role.FAN, uuid.uuid4())
        items = {"items": [{"ticket_type_id": ticket_type_id, "quantity": 1}]}
        hold = await self.answer("POST", f"/v1/events/{event_id}/holds", fan, json=items)
        order = await self.answer("POST", f"/v1/holds/{hold['hold_id']}/checkout", fan)
        paid = await self.answer(
            "POST", f"/v1/dev/orders/{order['order_id']}/pay", fan, json={"card": VISA}
        )
        return fan, paid["tickets"][0]["ticket_id"]

    async def scan(self, event_id: str, fan: dict[str, str], ticket_id: str) -> tuple[str, float]:
        """The gate's verdict on the fan's code, and how long the scan took in seconds."""
        code = await self.answer("GET", f"/v1/tickets/{ticket_id}/qr", fan)
        body = {"event_id": event_id, "payload": code["payload"], "device_id": "door-gate"}
        started = time.perf_counter()
        scanned = await self.answer("POST", "/v1/scan", self.staff, json=body)
        return scanned["result"], time.perf_counter() - started

    async def stats(self, event_id: str) -> Any:
        return await self.answer("GET", f"/v1/venue/events/{event_id}/stats", self.manager)

    async def retry_failed_work(self, event_id: str) -> int:
        listed = await self.answer("GET", f"/v1/venue/events/{event_id}/failed-work", self.manager)
        for work in listed["failed_work"]:
            await self.answer("POST", f"/v1/venue/failed-work/{work['id']}/retry", self.manager)
        return len(listed["failed_work"])


def percentile_ms(seconds: list[float], share: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1_000


async def bounded(limit: int, jobs: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


def switch_chain(action: str, data_dir: pathlib.Path) -> None:
    """Stop or start the running system's chain (loadtests/embedded_chain.py)."""
    subprocess.run(
        [sys.executable, "-m", "loadtests.embedded_chain", action, str(data_dir)], check=True
    )


async def entry_run(base_url: str, secret: str, data_dir: pathlib.Path) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        door = Door(client, secret)
        event_id, ticket_type_id = await door.create_event()
        bought = await bounded(
            FANS_BUYING_AT_ONCE, [door.buy(event_id, ticket_type_id) for _ in range(TICKETS)]
        )
        scans = await bounded(
            GATES, [door.scan(event_id, fan, ticket_id) for fan, ticket_id in bought]
        )
        during = (await door.stats(event_id))["mints"]
        switch_chain("start", data_dir)
        back_at = time.monotonic()
        landed = during
        while time.monotonic() - back_at < LANDING_TIMEOUT_S:
            landed = (await door.stats(event_id))["mints"]
            if landed["minted"] == TICKETS:
                break
            await door.retry_failed_work(event_id)
            await asyncio.sleep(POLL_INTERVAL_S)
        landing_s = time.monotonic() - back_at
    admitted = sum(result == "admitted" for result, _ in scans)
    seconds = [elapsed for _, elapsed in scans]
    print(f"the chain stopped before the sale, through {TICKETS} scans at {GATES} gates")
    print(f"mints during the entry run: {during}")
    print(
        f"scan p50_ms={statistics.median(seconds) * 1_000:.1f} "
        f"p99_ms={percentile_ms(seconds, 0.99):.1f} max_ms={max(seconds) * 1_000:.1f}"
    )
    print(f"after the chain came back: {landed} in {landing_s:.1f} s")
    verdict = "ok" if admitted == TICKETS and landed["minted"] == TICKETS else "short"
    print(
        f"DOOR admitted={admitted}/{TICKETS} scan_p50_ms={statistics.median(seconds) * 1_000:.1f} "
        f"scan_p99_ms={percentile_ms(seconds, 0.99):.1f} nfts_landed={landed['minted']} "
        f"target=admitted={TICKETS}/{TICKETS},nfts_landed={TICKETS} {verdict}"
    )
    return 0 if verdict == "ok" else 1


def main() -> int:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="onsale-bench-door-") as directory:
        data_dir = pathlib.Path(directory)
        with running_system(data_dir) as system:
            switch_chain("stop", data_dir)
            return asyncio.run(entry_run(system.base_url, system.jwt_secret, data_dir))


if __name__ == "__main__":
    raise SystemExit(main())
