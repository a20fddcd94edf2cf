"""Fans buying through the balancer while the cluster loses a part: every step retried with its
Idempotency-Key until answered, as a fan's app does, and what each fan was told recorded."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx

from gateway.auth import Role
from gateway.parts import Parts
from loadtests.running_system import sign

TOKEN_TTL_S = 3_600
REQUEST_TIMEOUT_S = 30.0
RETRY_PAUSE_S = 0.2
# 503 from a gateway that cannot serve yet; 502 and 504 from the balancer for a request whose
# gateway died with it in hand. The same Idempotency-Key makes the retry safe.
RETRIED_STATUSES = (502, 503, 504)
PAID = ("paid", "fulfilled")
VISA = "4242424242424242"


@dataclass
class Load:
    """What the fans were told, and when each event last acknowledged a hold."""

    acknowledged_holds: set[str] = field(default_factory=set)
    paid_orders: set[str] = field(default_factory=set)
    last_hold_s: dict[str, float] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    running: bool = True

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def event_body(name: str, capacity: int, *, waiting_room: bool = False) -> dict[str, object]:
    now = time.time()

    def moment(offset_s: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + offset_s))

    return {
        "name": name,
        "venue_name": "Arena",
        "starts_at": moment(30 * 86_400),
        "ends_at": moment(30 * 86_400 + 10_800),
        "currency": "USD",
        "onsale": {
            "opens_at": moment(-60),
            "closes_at": moment(86_400),
            "max_tickets_per_user": None,
            "waiting_room": {"enabled": waiting_room, "admit_per_second": 100},
        },
        "ticket_types": [
            {
                "key": "GA",
                "name": "General",
                "kind": "general",
                "price_cents": 5_000,
                "capacity": capacity,
            }
        ],
    }


@dataclass(frozen=True)
class Fan:
    email: str
    token: str


def new_fan(parts: Parts) -> Fan:
    user_id = f"fan-{uuid.uuid4().hex[:12]}"
    email = f"{user_id}@fans.example"
    return Fan(email=email, token=sign(parts, user_id, Role.FAN, TOKEN_TTL_S, email))


def fan_client(fan: Fan, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {fan.token}"},
        timeout=REQUEST_TIMEOUT_S,
    )


async def until_answered(
    client: httpx.AsyncClient,
    path: str,
    body: dict[str, object] | None,
    load: Load,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST with one key until the answer is not one to retry, a dropped connection or the first
    attempt of the key still in flight."""
    key = uuid.uuid4().hex
    while True:
        try:
            answer = await client.post(
                path, json=body, headers={"Idempotency-Key": key, **(headers or {})}
            )
        except httpx.HTTPError:
            load.count(0)
            await asyncio.sleep(RETRY_PAUSE_S)
            continue
        load.count(answer.status_code)
        in_flight = answer.status_code == 409 and answer.json()["error"]["details"] == {
            "reason": "in_flight"
        }
        if answer.status_code not in RETRIED_STATUSES and not in_flight:
            return answer
        await asyncio.sleep(RETRY_PAUSE_S)


async def buyer(parts: Parts, base_url: str, event: tuple[str, str], load: Load) -> None:
    """One fan after another holding a ticket, checking out and paying, until the load stops
    or the event sells out."""
    event_id, ticket_type_id = event
    while load.running:
        async with fan_client(new_fan(parts), base_url) as client:
            held = await until_answered(
                client,
                f"/v1/events/{event_id}/holds",
                {"items": [{"ticket_type_id": ticket_type_id, "quantity": 1}]},
                load,
            )
            if held.status_code == 409 and held.json()["error"]["code"] == "SOLD_OUT":
                return
            assert held.status_code == 201, held.text
            hold_id = held.json()["hold_id"]
            load.acknowledged_holds.add(hold_id)
            load.last_hold_s[event_id] = time.monotonic()
            order = await until_answered(client, f"/v1/holds/{hold_id}/checkout", None, load)
            assert order.status_code == 201, order.text
            order_id = order.json()["order_id"]
            paid = await until_answered(
                client, f"/v1/dev/orders/{order_id}/pay", {"card": VISA}, load
            )
            assert paid.status_code == 200 and paid.json()["status"] in PAID, paid.text
            load.paid_orders.add(order_id)


async def every_event_holds_after(
    load: Load, event_ids: list[str], since_s: float, bound_s: float
) -> float:
    """Seconds from `since_s` until every event has acknowledged a hold after it."""
    while time.monotonic() < since_s + bound_s:
        if all(load.last_hold_s.get(event_id, 0) > since_s for event_id in event_ids):
            return max(load.last_hold_s[event_id] for event_id in event_ids) - since_s
        await asyncio.sleep(RETRY_PAUSE_S)
    raise AssertionError(f"an event did not hold again within {bound_s} s: {load.statuses}")


HOLDS_RECORDED = "SELECT count(*) FROM holds WHERE id = ANY($1::uuid[])"
PAID_RECORDED = (
    "SELECT count(*) FROM orders WHERE id = ANY($1::uuid[]) AND status = ANY($2::text[])"
)
# Units sold or ticketed beyond a ticket type's capacity, over the events.
OVERSOLD = """
SELECT coalesce(sum(greatest(types.sold_quantity - types.capacity, 0)
                    + greatest(tickets.live - types.capacity, 0)), 0)
FROM ticket_types AS types
CROSS JOIN LATERAL (
    SELECT count(*) AS live FROM tickets
    WHERE tickets.ticket_type_id = types.id
      AND tickets.status NOT IN ('refunded', 'revoked', 'cancelled')
) AS tickets
WHERE types.event_id = ANY($1::uuid[])
"""


@dataclass(frozen=True)
class Broken:
    """What the load was told that Postgres does not hold, and what it sold twice."""

    holds_lost: int
    orders_lost: int
    units_oversold: int


async def broken_promises(database_url: str, load: Load, event_ids: list[str]) -> Broken:
    connection = await asyncpg.connect(database_url)
    try:
        holds = await connection.fetchval(
            HOLDS_RECORDED, [uuid.UUID(hold_id) for hold_id in load.acknowledged_holds]
        )
        paid = await connection.fetchval(
            PAID_RECORDED, [uuid.UUID(order_id) for order_id in load.paid_orders], list(PAID)
        )
        oversold = await connection.fetchval(
            OVERSOLD, [uuid.UUID(event_id) for event_id in event_ids]
        )
    finally:
        await connection.close()
    return Broken(
        holds_lost=len(load.acknowledged_holds) - holds,
        orders_lost=len(load.paid_orders) - paid,
        units_oversold=oversold,
    )
