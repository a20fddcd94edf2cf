"""The checks after a load run, through the API and in the database: nothing oversold, nothing
acknowledged lost, nobody charged twice, every paid order with its tickets, and the venue's stats
adding up to what Postgres holds.

The oversell, loss and charge arithmetic is `invariants.py`'s, which `onsale demo` counts too,
over the same facts (`system_facts.py`); this module adds the checks a load run needs on top.
"""

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import msgspec

from gateway.parts import Parts
from loadtests.invariants import Invariants, count_invariants
from loadtests.system_facts import LIVE_TICKET_STATUSES, SystemFacts, read_system_facts
from persistence.sales_figures import ORDER_STATUSES, SalesFigures, load_sales_figures

PAID_STATUSES = ("paid", "fulfilled")
ORDER_READS_AT_ONCE = 16
STATS_ATTEMPTS = 5
STATS_RETRY_S = 1.0
HTTP_TIMEOUT_S = 30.0
RATE_LIMITED_RETRIES_MAX = 30


class Acknowledged(msgspec.Struct, kw_only=True):
    """What the load's fans were told: ids of holds, orders and paid orders; how many answers
    were 503 UNAVAILABLE (a dependency too slow or down, said with Retry-After) and how many
    another 5xx (a defect)."""

    hold_ids: set[str] = msgspec.field(default_factory=set)
    order_ids: set[str] = msgspec.field(default_factory=set)
    paid_order_ids: set[str] = msgspec.field(default_factory=set)
    server_errors: int = 0
    unavailable: int = 0


class Check(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    passed: bool
    detail: str


class SaleChecks(msgspec.Struct, frozen=True, kw_only=True):
    invariants: Invariants
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


SELECT_PAID_ORDER_QUANTITIES = """
SELECT orders.id::text AS order_id, orders.user_id,
       (SELECT coalesce(sum(quantity), 0)
        FROM holds, unnest(holds.item_quantities) AS quantity
        WHERE holds.id = orders.hold_id)::bigint AS quantity,
       (SELECT count(*) FROM tickets
        WHERE tickets.order_id = orders.id AND tickets.status = ANY($2::text[])) AS live_tickets
FROM orders
WHERE orders.event_id = $1 AND orders.status = ANY($3::text[])
"""


def parse_acknowledged(lines: list[str]) -> Acknowledged:
    """The record file of `loadtests/locustfile.py`, one JSON object a line."""
    acknowledged = Acknowledged()
    sets = {
        "hold": acknowledged.hold_ids,
        "order": acknowledged.order_ids,
        "paid": acknowledged.paid_order_ids,
    }
    for line in lines:
        if not line.strip():
            continue
        entry = msgspec.json.decode(line)
        if entry["kind"] == "server_error" and entry["id"] == "503":
            acknowledged.unavailable += 1
        elif entry["kind"] == "server_error":
            acknowledged.server_errors += 1
        else:
            sets[entry["kind"]].add(entry["id"])
    return acknowledged


def promise_checks(invariants: Invariants) -> list[Check]:
    return [
        Check(
            name="nothing oversold",
            passed=invariants.oversold == 0,
            detail=f"{invariants.oversold} units beyond capacity or doubled on a seat",
        ),
        Check(
            name="nothing acknowledged lost",
            passed=invariants.lost == 0,
            detail=f"holds {invariants.lost_holds}, orders {invariants.lost_orders}, "
            f"payments {invariants.lost_payments} missing from Postgres",
        ),
        Check(
            name="nobody charged twice",
            passed=invariants.double_charged == 0 and invariants.charged_without_sale == 0,
            detail=f"{invariants.double_charged} orders charged twice, "
            f"{invariants.charged_without_sale} charged without a sale",
        ),
    ]


class PaidOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A paid order as Postgres has it: whose (the caller, `<tenant id>/<user id>`), the units
    bought, the live tickets issued."""

    caller: str
    units: int
    live_tickets: int


async def read_paid_orders(
    connection: asyncpg.Connection, event_id: uuid.UUID
) -> dict[str, PaidOrder]:
    """Each paid order of the event, by id."""
    rows = await connection.fetch(
        SELECT_PAID_ORDER_QUANTITIES, event_id, LIVE_TICKET_STATUSES, list(PAID_STATUSES)
    )
    return {
        row["order_id"]: PaidOrder(
            caller=row["user_id"], units=row["quantity"], live_tickets=row["live_tickets"]
        )
        for row in rows
    }


async def get_patiently(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET, waiting out 429s as Retry-After says (the checks share the fans' rate limits)."""
    for _ in range(RATE_LIMITED_RETRIES_MAX):
        response = await client.get(path, headers=headers)
        if response.status_code != 429:
            return response
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    return response


async def tickets_check(
    client: httpx.AsyncClient,
    connection: asyncpg.Connection,
    event_id: uuid.UUID,
    owner_token: Callable[[str], str],
) -> Check:
    """Every paid order is fulfilled with one live ticket a unit, in Postgres and in the order
    the API serves its owner (whose token `owner_token` signs for the order's caller)."""
    paid_orders = await read_paid_orders(connection, event_id)
    short = {
        order_id for order_id, order in paid_orders.items() if order.units != order.live_tickets
    }
    limit = asyncio.Semaphore(ORDER_READS_AT_ONCE)

    async def served_wrong(order_id: str, paid: PaidOrder) -> bool:
        headers = {"Authorization": f"Bearer {owner_token(paid.caller)}"}
        async with limit:
            response = await get_patiently(client, f"/v1/orders/{order_id}", headers)
        if response.status_code != 200:
            return True
        order = response.json()
        live = [t for t in order["tickets"] if t["status"] in LIVE_TICKET_STATUSES]
        return order["status"] != "fulfilled" or len(live) != paid.units

    wrong = await asyncio.gather(
        *(served_wrong(order_id, paid) for order_id, paid in paid_orders.items())
    )
    served_short = {order for order, bad in zip(paid_orders, wrong, strict=True) if bad}
    return Check(
        name="every paid order has its tickets",
        passed=not short and not served_short,
        detail=f"{len(paid_orders)} paid orders; {len(short)} short of tickets in Postgres, "
        f"{len(served_short)} not fulfilled with every ticket over the API",
    )


def stats_mismatches(
    stats: dict[str, Any], *, live_tickets: int, figures: SalesFigures
) -> list[str]:
    """Where the venue's stats disagree with themselves or with Postgres."""
    problems = []
    for row in [stats, *stats["by_ticket_type"]]:
        if row["sold"] + row["held"] + row["available"] != row["capacity"]:
            problems.append(f"{row.get('key', 'total')}: sold + held + available != capacity")
    if stats["sold"] != live_tickets:
        problems.append(f"sold {stats['sold']} != {live_tickets} live tickets in Postgres")
    if stats["revenue_cents"] != figures.revenue_cents:
        problems.append(f"revenue {stats['revenue_cents']} != {figures.revenue_cents} in Postgres")
    for status in ORDER_STATUSES:
        if stats["orders"].get(status) != figures.orders_by_status[status]:
            problems.append(
                f"{status} orders {stats['orders'].get(status)} != "
                f"{figures.orders_by_status[status]} in Postgres"
            )
    return problems


async def stats_check(
    client: httpx.AsyncClient,
    connection: asyncpg.Connection,
    event_id: uuid.UUID,
    facts: SystemFacts,
) -> Check:
    """The stats add up, read again while they lag (they are cached for a second)."""
    problems: list[str] = []
    for _ in range(STATS_ATTEMPTS):
        response = await get_patiently(client, f"/v1/venue/events/{event_id}/stats")
        if response.status_code != 200:
            problems = [f"the stats answered {response.status_code}"]
        else:
            figures = await load_sales_figures(connection, event_id=event_id)
            live_tickets = sum(sales.live_tickets for sales in facts.ticket_types)
            problems = stats_mismatches(response.json(), live_tickets=live_tickets, figures=figures)
        if not problems:
            return Check(
                name="the stats add up",
                passed=True,
                detail="totals, ticket types, orders and revenue match Postgres",
            )
        await asyncio.sleep(STATS_RETRY_S)
    return Check(name="the stats add up", passed=False, detail="; ".join(problems))


async def check_sale(
    parts: Parts,
    *,
    event_id: str,
    venue_token: str,
    owner_token: Callable[[str], str],
    acknowledged: Acknowledged,
) -> SaleChecks:
    facts = await read_system_facts(
        database_url=parts.database_url,
        stripe_api_key=parts.stripe_api_key,
        stripe_api_base=parts.stripe_api_base,
        event_id=event_id,
        acknowledged_hold_ids=sorted(acknowledged.hold_ids),
        arrival_of_fan={},
    )
    invariants = count_invariants(
        ticket_types=facts.ticket_types,
        extra_tickets_on_seats=facts.extra_tickets_on_seats,
        acknowledged_hold_ids=acknowledged.hold_ids,
        stored_hold_ids=facts.stored_hold_ids,
        acknowledged_order_ids=acknowledged.order_ids,
        paid_order_ids=acknowledged.paid_order_ids,
        stored_orders=facts.stored_orders,
        charges=facts.charges,
    )
    event_uuid = uuid.UUID(event_id)
    connection = await asyncpg.connect(parts.database_url)
    try:
        async with httpx.AsyncClient(
            base_url=parts.gateway_url,
            headers={"Authorization": f"Bearer {venue_token}"},
            timeout=HTTP_TIMEOUT_S,
        ) as client:
            checks = [
                *promise_checks(invariants),
                await tickets_check(client, connection, event_uuid, owner_token),
                await stats_check(client, connection, event_uuid, facts),
            ]
    finally:
        await connection.close()
    checks.append(
        Check(
            name="no server errors",
            passed=acknowledged.server_errors == 0,
            detail=f"{acknowledged.server_errors} answers with a 5xx other than 503; "
            f"{acknowledged.unavailable} 503 UNAVAILABLE",
        )
    )
    return SaleChecks(invariants=invariants, checks=checks)
