"""What the system itself recorded about one event, read after the sale: from Postgres as its
owner (row-level security does not hide other tenants' rows from the owner, so nothing can hide
there) and from Stripe's list of PaymentIntents.

Read-only. The SQL sits beside the function that runs it; the figures go to `invariants.py`,
`fairness.py` and the report, which do the arithmetic.
"""

import datetime
import uuid

import asyncpg
import msgspec
import stripe

from engine.tickets import LIVE_STATUSES
from loadtests.fairness import Admission
from loadtests.invariants import OrderCharge, StoredOrder, TicketTypeSales

LIVE_TICKET_STATUSES = sorted(LIVE_STATUSES)
STRIPE_PAGE_SIZE = 100
STRIPE_TIMEOUT_S = 60


class SaleFigures(msgspec.Struct, frozen=True, kw_only=True):
    opens_at: datetime.datetime
    last_paid_at: datetime.datetime | None
    revenue_cents: int
    fees_cents: int
    currency: str


class SystemFacts(msgspec.Struct, frozen=True, kw_only=True):
    ticket_types: list[TicketTypeSales]
    extra_tickets_on_seats: int
    stored_hold_ids: set[str]
    stored_orders: dict[str, StoredOrder]
    charges: list[OrderCharge]
    admissions: list[Admission]
    sale: SaleFigures


SELECT_TICKET_TYPES = """
SELECT ticket_types.key, ticket_types.capacity, ticket_types.sold_quantity,
       (SELECT count(*) FROM tickets
        WHERE tickets.ticket_type_id = ticket_types.id AND tickets.status = ANY($2::text[]))
       AS live_tickets
FROM ticket_types
WHERE ticket_types.event_id = $1
ORDER BY ticket_types.key
"""

SELECT_EXTRA_TICKETS_ON_SEATS = """
SELECT coalesce(sum(live - 1), 0)::bigint
FROM (SELECT count(*) AS live FROM tickets
      WHERE event_id = $1 AND seat_id IS NOT NULL AND status = ANY($2::text[])
      GROUP BY seat_id HAVING count(*) > 1) AS shared_seats
"""

SELECT_STORED_HOLDS = "SELECT id::text FROM holds WHERE event_id = $1 AND id = ANY($2::uuid[])"

SELECT_ORDERS = "SELECT id::text, status, total_cents FROM orders WHERE event_id = $1"

SELECT_SALE = """
SELECT events.opens_at, events.currency,
       (SELECT max(paid_at) FROM orders
        WHERE event_id = $1 AND status IN ('paid', 'fulfilled')) AS last_paid_at,
       (SELECT coalesce(sum(subtotal_cents), 0)::bigint FROM orders
        WHERE event_id = $1 AND status IN ('paid', 'fulfilled')) AS revenue_cents,
       (SELECT coalesce(sum(fees_cents), 0)::bigint FROM orders
        WHERE event_id = $1 AND status IN ('paid', 'fulfilled')) AS fees_cents
FROM events
WHERE events.id = $1
"""

# The room's slots: the presale line's first, then the pre-queue's in the order drawn at the
# opening, then the places that joined after it.
SELECT_PLACES = """
SELECT places.fan_id, places.slot < rooms.presale_count AS presale,
       places.slot >= rooms.presale_count
           AND places.slot < rooms.presale_count + rooms.pre_queue_count AS pre_queued,
       places.admitted_at_ms
FROM waiting_room_places AS places
JOIN waiting_rooms AS rooms ON rooms.event_id = places.event_id
WHERE places.event_id = $1 AND places.admitted_at_ms IS NOT NULL
"""


async def read_admissions(
    connection: asyncpg.Connection, event_id: uuid.UUID, arrival_of_fan: dict[str, int]
) -> list[Admission]:
    """Admitted places of the driver's fans, each with the fan's arrival rank."""
    return [
        Admission(
            arrival=arrival_of_fan[row["fan_id"]],
            presale=row["presale"],
            pre_queued=row["pre_queued"],
            admitted_at_ms=row["admitted_at_ms"],
        )
        for row in await connection.fetch(SELECT_PLACES, event_id)
        if row["fan_id"] in arrival_of_fan
    ]


async def read_ticket_types(
    connection: asyncpg.Connection, event_id: uuid.UUID
) -> list[TicketTypeSales]:
    return [
        TicketTypeSales(
            key=row["key"],
            capacity=row["capacity"],
            sold_quantity=row["sold_quantity"],
            live_tickets=row["live_tickets"],
        )
        for row in await connection.fetch(SELECT_TICKET_TYPES, event_id, LIVE_TICKET_STATUSES)
    ]


async def read_stored_orders(
    connection: asyncpg.Connection, event_id: uuid.UUID
) -> dict[str, StoredOrder]:
    return {
        row["id"]: StoredOrder(status=row["status"], total_cents=row["total_cents"])
        for row in await connection.fetch(SELECT_ORDERS, event_id)
    }


async def read_sale(connection: asyncpg.Connection, event_id: uuid.UUID) -> SaleFigures:
    row = await connection.fetchrow(SELECT_SALE, event_id)
    return SaleFigures(
        opens_at=row["opens_at"],
        last_paid_at=row["last_paid_at"],
        revenue_cents=row["revenue_cents"],
        fees_cents=row["fees_cents"],
        currency=row["currency"],
    )


def charge_of(intent: stripe.PaymentIntent, order_id: str) -> OrderCharge:
    charge = intent.latest_charge
    captured = refunded = 0
    if isinstance(charge, stripe.Charge) and charge.status == "succeeded" and charge.captured:
        captured, refunded = charge.amount, charge.amount_refunded
    return OrderCharge(
        order_id=order_id,
        payment_intent_id=intent.id,
        succeeded=intent.status == "succeeded",
        captured_cents=captured,
        refunded_cents=refunded,
    )


async def read_charges(
    *, api_key: str, api_base: str | None, event_id: uuid.UUID
) -> list[OrderCharge]:
    """Every PaymentIntent at Stripe whose metadata names the event, with its charge."""
    client = stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else {},
        http_client=stripe.HTTPXClient(timeout=STRIPE_TIMEOUT_S),
    )
    first_page = await client.v1.payment_intents.list_async(
        params={"limit": STRIPE_PAGE_SIZE, "expand": ["data.latest_charge"]}
    )
    charges = []
    async for intent in first_page.auto_paging_iter():
        metadata = intent.metadata.to_dict() if intent.metadata else {}
        if metadata.get("event_id") == str(event_id) and "order_id" in metadata:
            charges.append(charge_of(intent, metadata["order_id"]))
    return charges


async def read_system_facts(
    *,
    database_url: str,
    stripe_api_key: str,
    stripe_api_base: str | None,
    event_id: str,
    acknowledged_hold_ids: list[str],
    arrival_of_fan: dict[str, int],
) -> SystemFacts:
    event_uuid = uuid.UUID(event_id)
    connection = await asyncpg.connect(database_url)
    try:
        ticket_types = await read_ticket_types(connection, event_uuid)
        extra = await connection.fetchval(
            SELECT_EXTRA_TICKETS_ON_SEATS, event_uuid, LIVE_TICKET_STATUSES
        )
        stored_hold_ids = {
            row["id"]
            for row in await connection.fetch(
                SELECT_STORED_HOLDS, event_uuid, acknowledged_hold_ids
            )
        }
        stored_orders = await read_stored_orders(connection, event_uuid)
        admissions = await read_admissions(connection, event_uuid, arrival_of_fan)
        sale = await read_sale(connection, event_uuid)
    finally:
        await connection.close()
    charges = await read_charges(
        api_key=stripe_api_key, api_base=stripe_api_base, event_id=event_uuid
    )
    return SystemFacts(
        ticket_types=ticket_types,
        extra_tickets_on_seats=extra,
        stored_hold_ids=stored_hold_ids,
        stored_orders=stored_orders,
        charges=charges,
        admissions=admissions,
        sale=sale,
    )
