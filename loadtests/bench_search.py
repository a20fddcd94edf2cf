"""SEARCH: how long the service desk waits for a search over 100,000 orders.

Seeds a fresh database (embedded Postgres in a temporary directory unless DATABASE_URL is set)
in bulk SQL, not over HTTP: one tenant with ORDERS paid orders of one reserved seat each, over
events of SEATS_PER_EVENT seats and the last 30 days, each buyer with a name and an email; and a
neighbour tenant with NEIGHBOUR_ORDERS orders of its own, which the fence must keep out. Then,
for each kind of `q` (an email in another case, a name's start, an order id, a seat) and for the
listing with no `q`, it times SEARCHES_PER_KIND searches of random targets as
`GET /v1/venue/orders` runs them: in the venue's tenant transaction, under row-level security,
the page's positions, then its orders and their tickets. It prints each kind's p50 and p99 and
the indexes its plan walks.
"""

import asyncio
import datetime
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg

from embedded.postgres_part import EmbeddedPostgres
from engine.inventory.configuration import TicketKind
from persistence.event_repository import (
    NewEvent,
    NewRow,
    NewSection,
    NewTicketType,
    WaitingRoomSettings,
    create_event,
)
from persistence.migrate import migrate
from persistence.order_search import (
    PAGE_QUERIES,
    ByEmail,
    ByNamePrefix,
    ByOrderId,
    BySeat,
    OrderFilter,
    OrderMatch,
    find_order_page,
    match_arguments,
)
from persistence.orders import load_orders
from persistence.pool import create_pool, service_url
from persistence.scratch_databases import create_database, drop_database
from persistence.tenancy import tenant_transaction
from persistence.tickets import load_tickets_of_orders

ORDERS = 100_000
NEIGHBOUR_ORDERS = 20_000
SECTIONS = 20
ROWS_PER_SECTION = 20
SEATS_PER_ROW = 50
SEATS_PER_EVENT = SECTIONS * ROWS_PER_SECTION * SEATS_PER_ROW
PAGE_SIZE = 20
SEARCHES_PER_KIND = 400
WARM_UP_SEARCHES = 50
SPREAD = datetime.timedelta(days=30)
TARGET_P99_MS = 50.0
SEED = 20_261_207
# 52 first names and 72 last names, made of syllables: a full name is shared by some 27 buyers.
FIRST_STARTS = ("Al", "Be", "Ca", "Do", "El", "Fa", "Gi", "Ha", "Io", "Ju", "Ka", "Lu", "Ma")
LAST_STARTS = ("Ber", "Cor", "Dal", "Fen", "Gar", "Hol", "Kes", "Lin", "Mor", "Nor", "Pal", "Ros")
FIRST_NAMES = tuple(start + end for start in FIRST_STARTS for end in ("na", "ro", "ssa", "ven"))
LAST_NAMES = tuple(
    start + end for start in LAST_STARTS for end in ("berg", "ez", "ini", "man", "ova", "sen")
)


def seated_event(number: int, opens_at: datetime.datetime) -> NewEvent:
    return NewEvent(
        name=f"Night {number}",
        starts_at=opens_at + datetime.timedelta(days=60),
        ends_at=opens_at + datetime.timedelta(days=60, hours=3),
        currency="USD",
        opens_at=opens_at,
        closes_at=opens_at + datetime.timedelta(days=59),
        hold_ttl_s=600,
        max_tickets_per_user=None,
        waiting_room=WaitingRoomSettings(
            enabled=False, admit_per_second=50, max_active_shoppers=2_000, access_ttl_s=900
        ),
        ticket_types=(
            NewTicketType(key="RES", name="Reserved", kind=TicketKind.SEATED, price_cents=8_000),
        ),
        sections=tuple(
            NewSection(
                section_id=f"{101 + section}",
                ticket_type_key="RES",
                rows=tuple(
                    NewRow(row_id=f"R{row + 1}", seats=SEATS_PER_ROW)
                    for row in range(ROWS_PER_SECTION)
                ),
            )
            for section in range(SECTIONS)
        ),
    )


# One statement per table, each row read off the arrays of the buyers and the seats they took.
# Every column is given, so no statement joins rows it has just written before any ANALYZE.
INSERT_HOLDS = """
INSERT INTO holds (id, tenant_id, event_id, user_id, status, subtotal_cents, expires_at,
                   created_at, ended_at, item_ticket_type_ids, item_quantities,
                   item_unit_prices_cents)
SELECT bought.hold_id, $1, bought.event_id, bought.user_id, 'converted', 8000,
       now() - bought.age_s * interval '1 second' + interval '10 minutes',
       now() - bought.age_s * interval '1 second',
       now() - bought.age_s * interval '1 second' + interval '1 minute',
       ARRAY[bought.ticket_type_id], ARRAY[1], ARRAY[8000::bigint]
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::bigint[])
     AS bought (hold_id, event_id, ticket_type_id, user_id, age_s)
"""

INSERT_HOLD_SEATS = """
INSERT INTO hold_seats (hold_id, seat_id, tenant_id, event_id)
SELECT bought.hold_id, bought.seat_id, $1, bought.event_id
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[]) AS bought (hold_id, seat_id, event_id)
"""

INSERT_ORDERS = """
INSERT INTO orders (id, tenant_id, event_id, hold_id, user_id, status, currency, subtotal_cents,
                    fees_cents, total_cents, expires_at, paid_at, created_at, updated_at,
                    contact_email, contact_name)
SELECT bought.order_id, $1, bought.event_id, bought.hold_id, bought.user_id, 'fulfilled', 'USD',
       8000, 400, 8400, now() - bought.age_s * interval '1 second' + interval '10 minutes',
       now() - bought.age_s * interval '1 second' + interval '1 minute',
       now() - bought.age_s * interval '1 second',
       now() - bought.age_s * interval '1 second' + interval '1 minute',
       bought.email, bought.name
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::bigint[], $7::text[], $8::text[])
     AS bought (order_id, hold_id, event_id, user_id, age_s, email, name)
"""

INSERT_PAYMENTS = """
INSERT INTO payments (tenant_id, order_id, payment_intent_id, idempotency_key, status,
                      amount_cents, currency)
SELECT $1, order_id, 'pi_' || replace(order_id::text, '-', ''),
       'order-' || order_id || '-payment-intent', 'succeeded', 8400, 'USD'
FROM unnest($2::uuid[]) AS order_id
"""

INSERT_TICKETS = """
INSERT INTO tickets (id, tenant_id, event_id, order_id, ticket_type_id, seat_id, owner_user_id,
                     status, issued_at)
SELECT bought.ticket_id, $1, bought.event_id, bought.order_id, bought.ticket_type_id,
       bought.seat_id, bought.user_id, 'valid',
       now() - bought.age_s * interval '1 second' + interval '1 minute'
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[],
            $8::bigint[])
     AS bought (ticket_id, order_id, event_id, ticket_type_id, seat_id, user_id, age_s)
"""


class Buyer:
    def __init__(self, randomness: random.Random, number: int, seat: asyncpg.Record) -> None:
        first, last = randomness.choice(FIRST_NAMES), randomness.choice(LAST_NAMES)
        self.user_id = f"{uuid.uuid4()}/fan-{number}"
        self.name = f"{first} {last}"
        self.email = f"{first}.{last}.{number}@example.com".lower()
        self.age_s = int(SPREAD.total_seconds() * randomness.random())
        self.seat_id: uuid.UUID = seat["id"]
        self.event_id: uuid.UUID = seat["event_id"]
        self.ticket_type_id: uuid.UUID = seat["ticket_type_id"]
        self.hold_id, self.order_id, self.ticket_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


async def seed_tenant(
    owner_url: str, name: str, orders: int, randomness: random.Random
) -> tuple[uuid.UUID, list[Buyer], list[str]]:
    """A tenant with the events its `orders` paid orders need, one seat each; its id, its
    buyers, its seats.
    Written on an owner's connection of its own, without the service's statement timeout."""
    connection = await asyncpg.connect(owner_url)
    try:
        tenant_id = await connection.fetchval(
            "INSERT INTO tenants (name) VALUES ($1) RETURNING id", name
        )
        opens_at = datetime.datetime.now(datetime.UTC) - SPREAD - datetime.timedelta(days=1)
        events = -(-orders // SEATS_PER_EVENT)
        started = time.perf_counter()
        async with tenant_transaction(connection, tenant_id):
            venue_id = await connection.fetchval(
                "INSERT INTO venues (tenant_id, name) VALUES ($1, 'Arena') RETURNING id", tenant_id
            )
            for number in range(events):
                await create_event(
                    connection,
                    tenant_id=tenant_id,
                    venue_id=venue_id,
                    event=seated_event(number, opens_at),
                )
            # The owner may be a superuser, whom row-level security does not fence.
            seats = await connection.fetch(
                "SELECT id, event_id, ticket_type_id, label FROM seats WHERE tenant_id = $1"
                " ORDER BY event_id, seat_index",
                tenant_id,
            )
        assert len(seats) >= orders, "one seat per order"
        buyers = [Buyer(randomness, number, seats[number]) for number in range(orders)]
        created = time.perf_counter()
        async with tenant_transaction(connection, tenant_id):
            await write_orders(connection, tenant_id, buyers)
        print(
            f"{name}: {events} events of {SEATS_PER_EVENT:,} seats in {created - started:.1f} s, "
            f"{orders:,} orders in {time.perf_counter() - created:.1f} s"
        )
    finally:
        await connection.close()
    return tenant_id, buyers, [row["label"] for row in seats[:orders]]


async def write_orders(
    connection: asyncpg.Connection, tenant_id: uuid.UUID, buyers: list[Buyer]
) -> None:
    def column(read: Callable[[Buyer], object]) -> list[object]:
        return [read(buyer) for buyer in buyers]

    hold_ids, order_ids = column(lambda b: b.hold_id), column(lambda b: b.order_id)
    seat_ids, event_ids = column(lambda b: b.seat_id), column(lambda b: b.event_id)
    ticket_type_ids, user_ids = column(lambda b: b.ticket_type_id), column(lambda b: b.user_id)
    ages_s = column(lambda b: b.age_s)
    await connection.execute(
        INSERT_HOLDS, tenant_id, hold_ids, event_ids, ticket_type_ids, user_ids, ages_s
    )
    await connection.execute(INSERT_HOLD_SEATS, tenant_id, hold_ids, seat_ids, event_ids)
    await connection.execute(
        INSERT_ORDERS,
        tenant_id,
        order_ids,
        hold_ids,
        event_ids,
        user_ids,
        ages_s,
        column(lambda b: b.email),
        column(lambda b: b.name),
    )
    await connection.execute(INSERT_PAYMENTS, tenant_id, order_ids)
    await connection.execute(
        INSERT_TICKETS,
        tenant_id,
        column(lambda b: b.ticket_id),
        order_ids,
        event_ids,
        ticket_type_ids,
        seat_ids,
        user_ids,
        ages_s,
    )


def random_case(randomness: random.Random, text: str) -> str:
    return "".join(c.upper() if randomness.random() < 0.5 else c for c in text)


def search_kinds(
    randomness: random.Random, buyers: list[Buyer], labels: list[str]
) -> dict[str, Callable[[], OrderFilter]]:
    """Each kind of search, as a maker of a random search of that kind."""

    def email() -> OrderMatch:
        return ByEmail(email=random_case(randomness, randomness.choice(buyers).email))

    def name() -> OrderMatch:
        first, last = randomness.choice(buyers).name.split()
        return ByNamePrefix(prefix=random_case(randomness, f"{first} {last[:2]}"))

    def name_3_letters() -> OrderMatch:
        return ByNamePrefix(prefix=randomness.choice(buyers).name[:3])

    def order_id() -> OrderMatch:
        return ByOrderId(order_id=randomness.choice(buyers).order_id)

    def seat() -> OrderMatch:
        return BySeat(label=randomness.choice(labels))

    kinds: dict[str, Callable[[], OrderMatch]] = {
        "email": email,
        "name": name,
        "name_3_letters": name_3_letters,
        "order_id": order_id,
        "seat": seat,
        "none": lambda: None,
    }

    def searching(make: Callable[[], OrderMatch]) -> Callable[[], OrderFilter]:
        return lambda: OrderFilter(match=make())

    return {kind: searching(make) for kind, make in kinds.items()}


async def one_search(pool: asyncpg.Pool, tenant_id: uuid.UUID, found: OrderFilter) -> int:
    """The database's part of `GET /v1/venue/orders`: the page's positions, orders and tickets."""
    async with tenant_transaction(pool, tenant_id) as connection:
        positions = await find_order_page(connection, found=found, after=None, limit=PAGE_SIZE + 1)
        order_ids = [position.order_id for position in positions[:PAGE_SIZE]]
        orders = await load_orders(connection, order_ids)
        await load_tickets_of_orders(connection, order_ids)
    return len(orders)


async def indexes_walked(pool: asyncpg.Pool, tenant_id: uuid.UUID, found: OrderFilter) -> str:
    """The indexes the page query's plan walks, as the service role under the fence."""
    query = PAGE_QUERIES[type(found.match)]
    arguments = [None, None, None, None, PAGE_SIZE + 1, *match_arguments(found.match)]
    async with tenant_transaction(pool, tenant_id) as connection:
        plan = await connection.fetchval("EXPLAIN (FORMAT JSON) " + query, *arguments)
    names: list[str] = []

    def walk(node: dict[str, object]) -> None:
        index = node.get("Index Name")
        if isinstance(index, str) and index not in names:
            names.append(index)
        for child in node.get("Plans", []):  # type: ignore[attr-defined]
            walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return ",".join(names) or "none (sequential scan)"


def percentile_ms(seconds: list[float], share: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1_000


async def measure(owner_url: str) -> float:
    await migrate(owner_url)
    pool = await create_pool(service_url(owner_url), min_size=1, max_size=2)
    randomness = random.Random(SEED)
    try:
        started = time.perf_counter()
        tenant_id, buyers, labels = await seed_tenant(owner_url, "Bench", ORDERS, randomness)
        await seed_tenant(owner_url, "Neighbour", NEIGHBOUR_ORDERS, randomness)
        owner = await asyncpg.connect(owner_url)
        try:
            await owner.execute("VACUUM ANALYZE")  # as autovacuum leaves a table at rest
        finally:
            await owner.close()
        print(
            f"seeded {ORDERS:,} orders (+{NEIGHBOUR_ORDERS:,} of a neighbour tenant) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        worst_p99_ms = 0.0
        for kind, make in search_kinds(randomness, buyers, labels).items():
            for _ in range(WARM_UP_SEARCHES):
                await one_search(pool, tenant_id, make())
            timings: list[float] = []
            found_total = 0
            for _ in range(SEARCHES_PER_KIND):
                found = make()
                began = time.perf_counter()
                found_total += await one_search(pool, tenant_id, found)
                timings.append(time.perf_counter() - began)
            p50, p99 = percentile_ms(timings, 0.50), percentile_ms(timings, 0.99)
            worst_p99_ms = max(worst_p99_ms, p99)
            print(
                f"{kind}: p50 {p50:.2f} ms p99 {p99:.2f} ms, "
                f"{found_total / SEARCHES_PER_KIND:.1f} orders a page, "
                f"walks {await indexes_walked(pool, tenant_id, make())}"
            )
        return worst_p99_ms
    finally:
        await pool.close()


async def on_fresh_database(server_url: str) -> float:
    url = await create_database(server_url, "onsale_bench")
    try:
        return await measure(url)
    finally:
        await drop_database(server_url, url)


def main() -> int:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        p99_ms = asyncio.run(on_fresh_database(configured))
    else:
        with tempfile.TemporaryDirectory(prefix="onsale-bench-") as directory:
            postgres = EmbeddedPostgres(Path(directory) / "postgres")
            try:
                p99_ms = asyncio.run(on_fresh_database(postgres.start()))
            finally:
                postgres.stop()
    met = p99_ms < TARGET_P99_MS
    print(f"SEARCH p99_ms={p99_ms:.2f} target=<{TARGET_P99_MS:.0f} {'ok' if met else 'short'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
