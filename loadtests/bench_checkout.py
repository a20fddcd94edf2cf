"""Checkouts/s, payments/s and mints/s on the embedded default, over HTTP against `onsale up`.

N fans each hold two general-admission tickets (not timed); then, with the same number of
concurrent clients, every fan checks out (an order and its Stripe PaymentIntent, on localstripe),
then every fan pays through the development endpoint (Stripe confirms; the hold is sold, tickets,
ledger and outbox written). Mints/s runs from the first payment until the stats show every ticket
minted by the workers on the embedded LiteSVM chain.

    python -m loadtests.bench_checkout [orders]
"""

import asyncio
import pathlib
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx

from gateway.auth import Role, sign_development_token
from loadtests.bench_http import event_body, p99_ms, running_system

ORDERS = 200
TICKETS_PER_ORDER = 2
CONCURRENT_CLIENTS = 16
TOKEN_TTL_S = 3_600
MINT_WAIT_S = 600.0
STATS_POLL_S = 0.5
VISA = "4242424242424242"


def token(secret: str, user_id: str, roles: tuple[Role, ...]) -> str:
    return sign_development_token(
        secret,
        user_id=user_id,
        tenant_id=uuid.uuid4(),
        roles=roles,
        ttl_s=TOKEN_TTL_S,
        now_s=int(time.time()),
    )


async def timed_all(
    steps: list[Callable[[], Awaitable[None]]], clients: int
) -> tuple[float, list[float]]:
    """Run every step with `clients` at a time; the wall seconds and each step's latency."""
    queue = list(reversed(steps))
    latencies: list[float] = []

    async def client() -> None:
        while queue:
            step = queue.pop()
            started = time.perf_counter()
            await step()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies


async def wait_for_mints(
    http: httpx.AsyncClient, stats_path: str, venue: dict[str, str], tickets: int
) -> None:
    """Poll the event's stats until `tickets` NFTs are minted, or fail after MINT_WAIT_S."""
    minted = 0
    deadline = time.monotonic() + MINT_WAIT_S
    while minted < tickets and time.monotonic() < deadline:
        stats = await http.get(stats_path, headers=venue)
        minted = stats.json()["mints"]["minted"]
        await asyncio.sleep(STATS_POLL_S)
    assert minted == tickets, f"only {minted} of {tickets} tickets were minted"


async def run(base_url: str, secret: str, orders: int) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        venue = {"Authorization": f"Bearer {token(secret, 'bench-venue', (Role.VENUE_MANAGER,))}"}
        created = await http.post(
            "/v1/venue/events",
            content=event_body(),
            headers=venue | {"Content-Type": "application/json"},
        )
        assert created.status_code == 201, created.text
        event_id = created.json()["event_id"]
        ticket_type_id = created.json()["ticket_types"][0]["id"]
        fans = [
            {"Authorization": f"Bearer {token(secret, f'fan-{n}', (Role.FAN,))}"}
            for n in range(orders)
        ]
        owners: dict[str, dict[str, str]] = {}
        order_ids: list[str] = []
        payers: dict[str, dict[str, str]] = {}

        async def hold(fan: dict[str, str]) -> None:
            answer = await http.post(
                f"/v1/events/{event_id}/holds",
                json={"items": [{"ticket_type_id": ticket_type_id, "quantity": TICKETS_PER_ORDER}]},
                headers=fan,
            )
            assert answer.status_code == 201, answer.text
            owners[answer.json()["hold_id"]] = fan

        await asyncio.gather(*(hold(fan) for fan in fans))

        def checkout(hold_id: str) -> Callable[[], Awaitable[None]]:
            async def step() -> None:
                answer = await http.post(f"/v1/holds/{hold_id}/checkout", headers=owners[hold_id])
                assert answer.status_code == 201, answer.text
                order_ids.append(answer.json()["order_id"])
                payers[answer.json()["order_id"]] = owners[hold_id]

            return step

        checkout_s, checkout_latencies = await timed_all(
            [checkout(hold_id) for hold_id in owners], CONCURRENT_CLIENTS
        )

        def pay(order_id: str) -> Callable[[], Awaitable[None]]:
            async def step() -> None:
                answer = await http.post(
                    f"/v1/dev/orders/{order_id}/pay", json={"card": VISA}, headers=payers[order_id]
                )
                assert answer.status_code == 200, answer.text
                assert answer.json()["status"] == "fulfilled", answer.text

            return step

        first_payment = time.perf_counter()
        pay_s, pay_latencies = await timed_all(
            [pay(order_id) for order_id in order_ids], CONCURRENT_CLIENTS
        )
        tickets = orders * TICKETS_PER_ORDER
        await wait_for_mints(http, f"/v1/venue/events/{event_id}/stats", venue, tickets)
        mint_s = time.perf_counter() - first_payment
    print(
        f"checkout: {orders} orders in {checkout_s:.1f} s, p99 {p99_ms(checkout_latencies):.0f} ms"
    )
    print(f"pay: {orders} payments in {pay_s:.1f} s, p99 {p99_ms(pay_latencies):.0f} ms")
    print(f"mint: {tickets} NFTs minted {mint_s:.1f} s after the first payment")
    return (
        f"MONEY checkouts_per_s={orders / checkout_s:.1f} payments_per_s={orders / pay_s:.1f} "
        f"mints_per_s={tickets / mint_s:.1f}"
    )


def main() -> int:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else ORDERS
    with (
        tempfile.TemporaryDirectory(prefix="onsale-bench-money-") as directory,
        running_system(pathlib.Path(directory)) as system,
    ):
        print(asyncio.run(run(system.base_url, system.jwt_secret, orders)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
