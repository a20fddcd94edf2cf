"""Postgres refuses the worst bugs even from raw SQL: a seat held or sold twice, two tickets for a
seat, a reused idempotency key, negative quantities, a second PaymentIntent or mint, an unbalanced
ledger, a child row of another tenant's event."""

import uuid

import asyncpg
import pytest

from persistence.tenancy import tenant_transaction
from tests.persistence.builders import Sale, place_seat_hold


async def test_second_live_hold_is_refused_when_the_seat_is_already_held(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        await place_seat_hold(connection, sale_of_tenant_a, sale_of_tenant_a.free_seat_id)

    with pytest.raises(asyncpg.UniqueViolationError, match="hold_seats_one_live_claim_per_seat"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await place_seat_hold(connection, sale_of_tenant_a, sale_of_tenant_a.free_seat_id)


@pytest.mark.parametrize("ended_status", ["released", "expired"])
async def test_seat_can_be_held_again_when_its_hold_ended(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, ended_status: str
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        first_hold_id = await place_seat_hold(
            connection, sale_of_tenant_a, sale_of_tenant_a.free_seat_id
        )
        await connection.execute(
            "UPDATE holds SET status = $2, ended_at = now() WHERE id = $1",
            first_hold_id,
            ended_status,
        )
        second_hold_id = await place_seat_hold(
            connection, sale_of_tenant_a, sale_of_tenant_a.free_seat_id
        )
        live_holds = await connection.fetch(
            "SELECT hold_id FROM hold_seats WHERE seat_id = $1 AND live",
            sale_of_tenant_a.free_seat_id,
        )

    assert [row["hold_id"] for row in live_holds] == [second_hold_id]


async def test_hold_is_refused_when_the_seat_is_sold(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    with pytest.raises(asyncpg.UniqueViolationError, match="hold_seats_one_live_claim_per_seat"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await place_seat_hold(connection, sale_of_tenant_a, sale_of_tenant_a.sold_seat_id)


@pytest.mark.parametrize("ended_status", ["refunded", "cancelled"])
async def test_sold_seat_can_be_held_again_when_its_ticket_ended(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, ended_status: str
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        await connection.execute(
            "UPDATE tickets SET status = $2 WHERE id = $1", sale_of_tenant_a.ticket_id, ended_status
        )
        hold_id = await place_seat_hold(connection, sale_of_tenant_a, sale_of_tenant_a.sold_seat_id)
        live_holds = await connection.fetch(
            "SELECT hold_id FROM hold_seats WHERE seat_id = $1 AND live",
            sale_of_tenant_a.sold_seat_id,
        )

    assert [row["hold_id"] for row in live_holds] == [hold_id]


INSERT_SEATED_TICKET = """
INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, seat_id, owner_user_id,
                     code_seed, position)
VALUES ($1, $2, $3, $4, $5, 'fan-9', sha256(random()::text::bytea),
        (SELECT count(*) FROM tickets WHERE order_id = $3))
"""


async def insert_seated_ticket(connection: asyncpg.Connection, sale: Sale) -> None:
    await connection.execute(
        INSERT_SEATED_TICKET,
        sale.tenant_id,
        sale.event_id,
        sale.order_id,
        sale.seated_ticket_type_id,
        sale.sold_seat_id,
    )


async def test_second_ticket_is_refused_when_the_seat_already_has_a_live_ticket(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    with pytest.raises(asyncpg.UniqueViolationError, match="tickets_one_live_ticket_per_seat"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await insert_seated_ticket(connection, sale_of_tenant_a)


async def test_seat_can_be_ticketed_again_when_its_ticket_was_refunded(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        await connection.execute(
            "UPDATE tickets SET status = 'refunded' WHERE id = $1", sale_of_tenant_a.ticket_id
        )
        await insert_seated_ticket(connection, sale_of_tenant_a)
        live_tickets = await connection.fetchval(
            """
            SELECT count(*) FROM tickets
            WHERE seat_id = $1 AND status IN ('valid', 'checked_in', 'locked')
            """,
            sale_of_tenant_a.sold_seat_id,
        )

    assert live_tickets == 1


INSERT_IDEMPOTENCY_KEY = """
INSERT INTO idempotency_keys (tenant_id, caller, key, request_hash, expires_at)
VALUES ($1, $2, $3, 'sha256:def', now() + interval '24 hours')
"""


async def test_idempotency_key_is_refused_when_the_caller_already_used_it(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    tenant_id = sale_of_tenant_a.tenant_id
    async with tenant_transaction(service_pool, tenant_id) as connection:
        await connection.execute(INSERT_IDEMPOTENCY_KEY, tenant_id, "fan-7", "hold-1")
        await connection.execute(INSERT_IDEMPOTENCY_KEY, tenant_id, "fan-8", "hold-1")

    with pytest.raises(asyncpg.UniqueViolationError, match="idempotency_keys_caller_key_key"):
        async with tenant_transaction(service_pool, tenant_id) as connection:
            await connection.execute(INSERT_IDEMPOTENCY_KEY, tenant_id, "fan-7", "hold-1")


# A new hold of the GA ticket type with the given item arrays; `ga` stands for its id.
INSERT_HOLD_OF_ITEMS = """
INSERT INTO holds (tenant_id, event_id, user_id, subtotal_cents, expires_at,
                   item_ticket_type_ids, item_quantities, item_unit_prices_cents)
SELECT tenant_id, event_id, 'fan-9', 0, now() + interval '10 minutes', {types}, {quantities},
       {prices}
FROM ticket_types AS ga
WHERE key = 'GA'
"""


def hold_of_items(types: str, quantities: str, prices: str) -> str:
    return INSERT_HOLD_OF_ITEMS.format(types=types, quantities=quantities, prices=prices)


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        (hold_of_items("ARRAY[ga.id]", "'{-1}'", "'{5000}'"), "holds_item_quantities_check"),
        (hold_of_items("ARRAY[ga.id]", "'{0}'", "'{5000}'"), "holds_item_quantities_check"),
        (
            hold_of_items("ARRAY[ga.id]", "'{1}'", "'{-1}'"),
            "holds_item_unit_prices_cents_check",
        ),
        (hold_of_items("'{}'", "'{}'", "'{}'"), "holds_items_are_whole"),
        (hold_of_items("ARRAY[ga.id]", "'{1,2}'", "'{5000}'"), "holds_items_are_whole"),
        (hold_of_items("ARRAY[NULL::uuid]", "'{1}'", "'{5000}'"), "holds_items_are_whole"),
        (
            hold_of_items("ARRAY[ga.id, ga.id]", "'{1,1}'", "'{5000,5000}'"),
            "holds_items_name_each_ticket_type_price_once",
        ),
        ("UPDATE order_items SET quantity = -2", "order_items_quantity_check"),
        ("UPDATE ticket_types SET capacity = -1 WHERE key = 'GA'", "ticket_types_capacity_check"),
        (
            "UPDATE ticket_types SET held_quantity = 60, sold_quantity = 41 WHERE key = 'GA'",
            "ticket_types_check",
        ),
        (
            "UPDATE ticket_types SET sold_quantity = -1 WHERE key = 'GA'",
            "ticket_types_sold_quantity_check",
        ),
        ("UPDATE ticket_types SET price_cents = -100", "ticket_types_price_cents_check"),
        (
            "UPDATE orders SET fees_cents = -1, total_cents = subtotal_cents - 1",
            "orders_fees_cents_check",
        ),
        ("UPDATE orders SET total_cents = total_cents + 1", "orders_check"),
        ("UPDATE payments SET amount_cents = -1", "payments_amount_cents_check"),
        ("UPDATE refunds SET amount_cents = 0", "refunds_amount_cents_check"),
    ],
    ids=[
        "negative hold quantity",
        "zero hold quantity",
        "negative hold price",
        "hold of nothing",
        "hold items of unequal lengths",
        "hold item without a ticket type",
        "hold naming a ticket type twice at one price",
        "negative order quantity",
        "negative capacity",
        "held and sold beyond capacity",
        "negative sold quantity",
        "negative price",
        "negative fees",
        "total not subtotal plus fees",
        "negative payment",
        "zero refund",
    ],
)
async def test_change_is_refused_when_a_quantity_or_amount_would_be_negative_or_inconsistent(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, statement: str, constraint: str
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        assert await connection.fetchval("SELECT count(*) FROM orders") == 1
    with pytest.raises(asyncpg.CheckViolationError, match=constraint):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(statement)


async def test_second_payment_intent_is_refused_when_the_order_has_one(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    with pytest.raises(asyncpg.UniqueViolationError, match="payments_order_id_key"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                """
                INSERT INTO payments (tenant_id, order_id, payment_intent_id, idempotency_key,
                                      amount_cents, currency)
                VALUES ($1, $2, 'pi_second', 'order-second', 18900, 'USD')
                """,
                sale_of_tenant_a.tenant_id,
                sale_of_tenant_a.order_id,
            )


async def test_second_mint_is_refused_when_the_ticket_has_one(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    with pytest.raises(asyncpg.UniqueViolationError, match="nft_mints_ticket_id_key"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                "INSERT INTO nft_mints (tenant_id, ticket_id) VALUES ($1, $2)",
                sale_of_tenant_a.tenant_id,
                sale_of_tenant_a.ticket_id,
            )


async def test_second_delivery_is_refused_when_the_stripe_event_was_recorded(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    insert = """
    INSERT INTO webhook_inbox (tenant_id, stripe_event_id, event_type, payload)
    VALUES ($1, 'evt_twice', 'payment_intent.succeeded', '{}')
    """
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        await connection.execute(insert, sale_of_tenant_a.tenant_id)

    with pytest.raises(asyncpg.UniqueViolationError, match="webhook_inbox_stripe_event_id_key"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(insert, sale_of_tenant_a.tenant_id)


INSERT_LEDGER_ENTRY = """
INSERT INTO ledger_entries (tenant_id, transaction_id, account, direction, amount_cents, currency)
VALUES ($1, $2, $3, $4, $5, 'USD')
"""


async def test_ledger_transaction_is_refused_at_commit_when_debits_differ_from_credits(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    tenant_id = sale_of_tenant_a.tenant_id
    balanced = uuid.uuid4()
    async with tenant_transaction(service_pool, tenant_id) as connection:
        await connection.execute(INSERT_LEDGER_ENTRY, tenant_id, balanced, "cash", "debit", 500)
        await connection.execute(INSERT_LEDGER_ENTRY, tenant_id, balanced, "fees", "credit", 100)
        await connection.execute(INSERT_LEDGER_ENTRY, tenant_id, balanced, "payable", "credit", 400)

    unbalanced = uuid.uuid4()
    with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
        async with tenant_transaction(service_pool, tenant_id) as connection:
            await connection.execute(
                INSERT_LEDGER_ENTRY, tenant_id, unbalanced, "cash", "debit", 500
            )
            await connection.execute(
                INSERT_LEDGER_ENTRY, tenant_id, unbalanced, "payable", "credit", 499
            )

    async with tenant_transaction(service_pool, tenant_id) as connection:
        recorded = await connection.fetch(
            "SELECT transaction_id FROM ledger_entries WHERE transaction_id = ANY($1::uuid[])",
            [balanced, unbalanced],
        )
    assert [row["transaction_id"] for row in recorded] == [balanced] * 3


async def test_ledger_entry_is_refused_when_its_amount_is_not_positive(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="ledger_entries_amount_cents_check"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                INSERT_LEDGER_ENTRY, sale_of_tenant_a.tenant_id, uuid.uuid4(), "cash", "debit", -5
            )


INSERT_GENERAL_HOLD = """
INSERT INTO holds (tenant_id, event_id, user_id, subtotal_cents, expires_at,
                   item_ticket_type_ids, item_quantities, item_unit_prices_cents)
SELECT $1, event.id, 'fan-1', 5000, now() + interval '10 minutes', ARRAY[$3::uuid], '{1}',
       '{5000}'
FROM unnest($2::uuid[]) AS event (id)
"""


async def count_holds(service_pool: asyncpg.Pool, sale: Sale) -> int:
    async with tenant_transaction(service_pool, sale.tenant_id) as connection:
        return int(await connection.fetchval("SELECT count(*) FROM holds"))


async def test_hold_is_refused_when_its_tenant_differs_from_its_events(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, sale_of_tenant_b: Sale
) -> None:
    holds_before = await count_holds(service_pool, sale_of_tenant_b)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="names an event"):
        async with tenant_transaction(service_pool, sale_of_tenant_b.tenant_id) as connection:
            await connection.execute(
                INSERT_GENERAL_HOLD,
                sale_of_tenant_b.tenant_id,
                [sale_of_tenant_a.event_id],
                sale_of_tenant_b.general_ticket_type_id,
            )

    assert await count_holds(service_pool, sale_of_tenant_b) == holds_before


async def test_holds_are_refused_together_when_one_names_another_events_ticket_type(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    tenant_id = sale_of_tenant_a.tenant_id
    holds_before = await count_holds(service_pool, sale_of_tenant_a)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="names a ticket type"):
        async with tenant_transaction(service_pool, tenant_id) as connection:
            other_event_id = await connection.fetchval(
                """
                INSERT INTO events (tenant_id, venue_id, name, starts_at, ends_at, currency,
                                    opens_at, closes_at, hold_ttl_s, max_tickets_per_user,
                                    admit_per_second, max_active_shoppers, access_ttl_s)
                SELECT tenant_id, venue_id, 'Night Two', starts_at, ends_at, currency, opens_at,
                       closes_at, hold_ttl_s, max_tickets_per_user, admit_per_second,
                       max_active_shoppers, access_ttl_s
                FROM events
                RETURNING id
                """
            )
            await connection.execute(
                INSERT_GENERAL_HOLD,
                tenant_id,
                [sale_of_tenant_a.event_id, other_event_id],
                sale_of_tenant_a.general_ticket_type_id,
            )

    assert await count_holds(service_pool, sale_of_tenant_a) == holds_before


async def test_idempotency_record_is_refused_when_its_event_is_another_tenants(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, sale_of_tenant_b: Sale
) -> None:
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="names an event"):
        async with tenant_transaction(service_pool, sale_of_tenant_b.tenant_id) as connection:
            await connection.execute(
                """
                INSERT INTO inventory_idempotency_records (tenant_id, event_id, key, fingerprint,
                                                           outcome, recorded_at_ms)
                VALUES ($1, $2, 'hold-9', '\\x01'::bytea, '\\x02'::bytea, 1000)
                """,
                sale_of_tenant_b.tenant_id,
                sale_of_tenant_a.event_id,
            )


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("DELETE FROM ticket_types WHERE key = 'GA'", "ticket_types .* cannot be deleted"),
        ("DELETE FROM events", "events .* cannot be deleted"),
        ("UPDATE ticket_types SET id = gen_random_uuid()", "ticket_types.id never changes"),
        ("UPDATE events SET id = gen_random_uuid()", "events.id never changes"),
        ("UPDATE holds SET item_quantities = '{5}'", "holds.item_quantities never changes"),
        (
            "UPDATE holds SET event_id = gen_random_uuid()",
            "holds.event_id never changes",
        ),
        (
            "UPDATE inventory_idempotency_records SET event_id = gen_random_uuid()",
            "inventory_idempotency_records.event_id never changes",
        ),
    ],
    ids=[
        "ticket type deleted",
        "event deleted",
        "ticket type rekeyed",
        "event rekeyed",
        "hold items changed",
        "hold moved to another event",
        "idempotency record moved to another event",
    ],
)
async def test_change_is_refused_when_it_would_orphan_a_hold_or_record(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, statement: str, refusal: str
) -> None:
    with pytest.raises(asyncpg.PostgresError, match=refusal):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(statement)


async def test_hold_keeps_its_items_when_its_status_and_expiry_change(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        hold_id = await place_seat_hold(connection, sale_of_tenant_a, sale_of_tenant_a.free_seat_id)
        await connection.execute(
            """
            UPDATE holds SET expires_at = expires_at + interval '1 minute', extensions = 1,
                             item_quantities = item_quantities
            WHERE id = $1
            """,
            hold_id,
        )
        await connection.execute(
            "UPDATE holds SET status = 'released', ended_at = now() WHERE id = $1", hold_id
        )
        row = await connection.fetchrow(
            "SELECT status, item_quantities FROM holds WHERE id = $1", hold_id
        )

    assert (row["status"], row["item_quantities"]) == ("released", [1])


async def test_seat_label_reads_section_row_number_when_a_seat_is_stored(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        labels = await connection.fetch("SELECT label FROM seats ORDER BY seat_index")

    assert [row["label"] for row in labels] == ["101-A-1", "101-A-2"]


@pytest.mark.parametrize(
    ("statements", "final_status"),
    [
        (
            [
                "UPDATE holds SET status = 'released', ended_at = now() WHERE status = 'active'",
                "UPDATE holds SET status = 'active', ended_at = NULL WHERE status = 'released'",
            ],
            "released",
        ),
        (["UPDATE holds SET status = 'released' WHERE status = 'converted'"], "converted"),
        (
            [
                "UPDATE tickets SET status = 'refunded'",
                "UPDATE tickets SET status = 'valid'",
            ],
            "refunded",
        ),
    ],
    ids=["released hold made active", "converted hold released", "refunded ticket reissued"],
)
async def test_status_change_is_refused_when_the_status_is_final(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, statements: list[str], final_status: str
) -> None:
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        await place_seat_hold(connection, sale_of_tenant_a, sale_of_tenant_a.free_seat_id)

    with pytest.raises(asyncpg.CheckViolationError, match=f"is {final_status}, which is final"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            for statement in statements:
                await connection.execute(statement)
