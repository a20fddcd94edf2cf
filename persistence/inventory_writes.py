"""The group commit of an inventory: one batch of the engine's changes written in the caller's
fenced transaction (persistence.epochs), as the rows persistence.inventory_rows works out.

The net effect of the whole batch goes in multi-row statements, outbox rows included; the rows no
other write of the batch depends on (new holds and items, counters, idempotency records) share one
statement. Every move is checked against the state it leaves (a seat, a hold, a sale), so Postgres
refuses what the engine should never have decided and the caller's transaction rolls back whole.
"""

import uuid
from collections.abc import Sequence

import asyncpg

from engine.changes import Change
from engine.limits import MILLISECONDS_PER_SECOND
from persistence.code_writes import write_code_tallies, write_new_codes
from persistence.epochs import FencedTransaction
from persistence.inventory_batch import WITHHELD_SEAT_STATE_NAMES, BatchEffect, net_effect
from persistence.inventory_reads import load_live_holds, load_live_sales
from persistence.inventory_rows import (
    ChangePlan,
    changed_holds,
    ended_sales,
    holds_of_sales_ended_at_once,
    main_columns,
    new_hold_seats,
    new_sale_items,
    new_sales,
    outbox_rows,
    plan_changes,
    seat_moves,
    withheld_deltas,
)
from persistence.price_phases_column import price_phases_json
from persistence.sale_returns import write_returned_sales
from persistence.wait_list_writes import write_wait_list


class InventoryConflict(RuntimeError):
    """Postgres holds a hold, sale or seat in another state than the batch leaves: nothing is
    written, and the actor that decided the batch must rebuild."""


UPDATE_CHANGED_HOLDS = """
WITH updated AS (
    UPDATE holds
    SET status = changed.status,
        ended_at = CASE WHEN changed.status = 'active' THEN NULL
                        ELSE timestamptz 'epoch' + $2::bigint * interval '1 millisecond' END,
        expires_at = timestamptz 'epoch' + changed.expires_at_ms * interval '1 millisecond',
        extensions = changed.extensions
    FROM unnest($3::uuid[], $4::text[], $5::bigint[], $6::integer[])
         AS changed (id, status, expires_at_ms, extensions)
    WHERE holds.id = changed.id AND holds.event_id = $1 AND holds.status = 'active'
    RETURNING 1
)
SELECT count(*) FROM updated
"""

UPDATE_ENDED_SALES = """
WITH updated AS (
    UPDATE sales
    SET status = ended.status,
        ended_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
    FROM unnest($3::uuid[], $4::text[]) AS ended (order_id, status)
    WHERE sales.order_id = ended.order_id AND sales.event_id = $1 AND sales.status = 'live'
    RETURNING 1
)
SELECT count(*) FROM updated
"""

# The rows of a batch that depend on nothing else it writes, in one statement (one round trip):
# new holds with their items, the ticket types' counters, the idempotency records. Each part is
# empty when the batch has none. A hold's items are the slice of the item arrays ($12 to $14) that
# starts at its first item ($10) and holds its item count ($11); $22 is each new hold's code.
INSERT_HOLDS_COUNTS_AND_RECORDS = """
WITH new_holds AS (
    INSERT INTO holds (id, tenant_id, event_id, user_id, status, subtotal_cents, expires_at,
                       created_at, ended_at, extensions, item_ticket_type_ids, item_quantities,
                       item_unit_prices_cents, code_id)
    SELECT new.id, $1, $2, new.user_id, new.status, new.subtotal_cents,
           timestamptz 'epoch' + new.expires_at_ms * interval '1 millisecond',
           timestamptz 'epoch' + $3::bigint * interval '1 millisecond',
           CASE WHEN new.status = 'active' THEN NULL
                ELSE timestamptz 'epoch' + $3::bigint * interval '1 millisecond' END,
           new.extensions,
           ($12::uuid[])[new.first_item:new.first_item + new.item_count - 1],
           ($13::integer[])[new.first_item:new.first_item + new.item_count - 1],
           ($14::bigint[])[new.first_item:new.first_item + new.item_count - 1],
           new.code_id
    FROM unnest($4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::integer[],
                $10::integer[], $11::integer[], $22::uuid[])
         AS new (id, user_id, status, subtotal_cents, expires_at_ms, extensions, first_item,
                 item_count, code_id)
),
counted AS (
    UPDATE ticket_types
    SET held_quantity = held_quantity + deltas.held, sold_quantity = sold_quantity + deltas.sold
    FROM unnest($15::uuid[], $16::integer[], $17::integer[]) AS deltas (id, held, sold)
    WHERE ticket_types.id = deltas.id AND ticket_types.event_id = $2
)
INSERT INTO inventory_idempotency_records (tenant_id, event_id, key, fingerprint, outcome,
                                           recorded_at_ms)
SELECT $1, $2, new.key, new.fingerprint, new.outcome, new.recorded_at_ms
FROM unnest($18::text[], $19::bytea[], $20::bytea[], $21::bigint[]) WITH ORDINALITY
     AS new (key, fingerprint, outcome, recorded_at_ms, ordinal)
ORDER BY new.ordinal
"""

INSERT_HOLD_SEATS = """
WITH inserted AS (
    INSERT INTO hold_seats (hold_id, seat_id, tenant_id, event_id, live, position)
    SELECT new.hold_id, seats.id, $1, $2, new.live, new.position
    FROM unnest($3::uuid[], $4::text[], $5::integer[], $6::boolean[])
         AS new (hold_id, label, position, live)
    JOIN seats ON seats.event_id = $2 AND seats.label = new.label
    RETURNING 1
)
SELECT count(*) FROM inserted
"""

INSERT_SALES = """
INSERT INTO sales (order_id, tenant_id, event_id, user_id, hold_id, complimentary, allocation,
                   seat_labels, subtotal_cents, fees_cents, total_cents, status, sold_at, ended_at)
SELECT new.order_id, $1, $2, new.user_id, new.hold_id, new.allocation IS NOT NULL,
       new.allocation, string_to_array(new.seat_labels, ' '), new.subtotal_cents,
       new.fees_cents, new.total_cents, new.status,
       timestamptz 'epoch' + $3::bigint * interval '1 millisecond',
       CASE WHEN new.status = 'live' THEN NULL
            ELSE timestamptz 'epoch' + $3::bigint * interval '1 millisecond' END
FROM unnest($4::uuid[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::bigint[],
            $10::bigint[], $11::bigint[], $12::text[])
     AS new (order_id, user_id, hold_id, allocation, seat_labels, subtotal_cents, fees_cents,
             total_cents, status)
"""

INSERT_SALE_ITEMS = """
INSERT INTO sale_items (order_id, ticket_type_id, tenant_id, event_id, position, quantity,
                        unit_price_cents)
SELECT new.order_id, new.ticket_type_id, $1, $2, new.position, new.quantity, new.unit_price_cents
FROM unnest($3::uuid[], $4::uuid[], $5::integer[], $6::integer[], $7::bigint[])
     AS new (order_id, ticket_type_id, position, quantity, unit_price_cents)
"""

# A sale refunded in the batch that sold it: its hold's claims end with it.
END_SEAT_CLAIMS_OF_HOLDS = """
UPDATE hold_seats SET live = false WHERE event_id = $1 AND hold_id = ANY($2::uuid[]) AND live
"""

UPDATE_SEAT_STATES = """
WITH moved AS (
    UPDATE seats
    SET state = moves.after
    FROM unnest($2::text[], $3::text[], $4::text[]) AS moves (label, before, after)
    WHERE seats.event_id = $1
      AND seats.label = moves.label
      AND (seats.state = moves.before
           OR (moves.before = 'withheld' AND seats.state = ANY($5::text[])))
    RETURNING 1
)
SELECT count(*) FROM moved
"""

# An upsert would check the delta itself against quantity >= 0, so rows that exist are updated
# and only the others inserted; a negative delta on a missing row is refused by the check.
UPSERT_WITHHELD_UNITS = """
WITH deltas AS (
    SELECT *
    FROM unnest($3::uuid[], $4::text[], $5::integer[])
         AS deltas (ticket_type_id, withholding, quantity)
),
updated AS (
    UPDATE withheld_units
    SET quantity = withheld_units.quantity + deltas.quantity
    FROM deltas
    WHERE withheld_units.event_id = $2
      AND withheld_units.ticket_type_id = deltas.ticket_type_id
      AND withheld_units.withholding = deltas.withholding
    RETURNING withheld_units.ticket_type_id, withheld_units.withholding
)
INSERT INTO withheld_units (tenant_id, event_id, ticket_type_id, withholding, quantity)
SELECT $1, $2, deltas.ticket_type_id, deltas.withholding, deltas.quantity
FROM deltas
WHERE NOT EXISTS (
    SELECT FROM updated
    WHERE updated.ticket_type_id = deltas.ticket_type_id
      AND updated.withholding = deltas.withholding
)
"""

DELETE_IDEMPOTENCY_RECORDS = """
DELETE FROM inventory_idempotency_records WHERE event_id = $1 AND key = ANY($2::text[])
"""

UPDATE_PAUSED = """
UPDATE events
SET status = CASE WHEN $2 THEN 'paused' ELSE 'on_sale' END, updated_at = now()
WHERE id = $1
"""

CANCEL_EVENT = """
UPDATE events
SET status = 'cancelled', cancelled_at = now(), cancellation_reason = $2, updated_at = now()
WHERE id = $1
"""

UPDATE_SALE_SETTINGS = """
UPDATE events
SET opens_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond',
    closes_at = timestamptz 'epoch' + $3::bigint * interval '1 millisecond',
    hold_ttl_s = $4, max_tickets_per_user = $5, wait_list_enabled = $6, offer_ttl_s = $7,
    accessible_release_at = timestamptz 'epoch' + $8::bigint * interval '1 millisecond',
    updated_at = now()
WHERE id = $1
"""

UPDATE_TICKET_TYPE_SALES = """
UPDATE ticket_types
SET price_cents = changed.price_cents,
    on_sale_from = timestamptz 'epoch' + changed.on_sale_from_ms * interval '1 millisecond',
    on_sale_until = timestamptz 'epoch' + changed.on_sale_until_ms * interval '1 millisecond',
    price_phases = changed.price_phases::jsonb
FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])
     AS changed (ticket_type_id, price_cents, on_sale_from_ms, on_sale_until_ms, price_phases)
WHERE ticket_types.id = changed.ticket_type_id AND ticket_types.event_id = $1
"""

ADD_CAPACITY = """
UPDATE ticket_types
SET capacity = ticket_types.capacity + added.quantity
FROM unnest($2::uuid[], $3::integer[]) AS added (ticket_type_id, quantity)
WHERE ticket_types.id = added.ticket_type_id AND ticket_types.event_id = $1
  AND ticket_types.kind = 'general'
RETURNING ticket_types.id
"""

INSERT_OUTBOX = """
INSERT INTO outbox (tenant_id, topic, aggregate_id, payload)
SELECT $1, new.topic, new.aggregate_id, new.payload::jsonb
FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY
    AS new (topic, aggregate_id, payload, ordinal)
ORDER BY new.ordinal
"""


async def write_changes(
    fenced: FencedTransaction, *, changes: Sequence[Change], now_ms: int
) -> None:
    """Record a batch of changes of the fenced event (see `write_planned`)."""
    await write_planned(fenced, plan=plan_changes(changes, event_id=fenced.event_id, now_ms=now_ms))


async def write_planned(fenced: FencedTransaction, *, plan: ChangePlan) -> None:
    """Record a planned batch in a transaction that passed its event's epoch fence, or raise and
    record nothing.

    Raises InventoryConflict when Postgres holds something in another state than the batch
    leaves, and asyncpg's constraint errors when a count would break its bounds; the caller's
    transaction then rolls back whole.
    """
    assert plan.event_id == fenced.event_id, "a batch is written under its own event's fence"
    connection, tenant_id = fenced.connection, fenced.tenant_id
    event_id, now_ms = plan.event_id, plan.now_ms
    if not plan.changes:
        return
    effect, main_columns_of_batch = plan.effect, plan.main_columns
    if effect is None:
        hold_ids, order_ids = plan.hold_ids, plan.order_ids
        existing_holds = await load_live_holds(connection, event_id, hold_ids) if hold_ids else ()
        existing_sales = await load_live_sales(connection, event_id, order_ids) if order_ids else ()
        if len(existing_holds) != len(hold_ids) or len(existing_sales) != len(order_ids):
            raise InventoryConflict(
                f"event {event_id}: the batch ends holds or sales that are not live in Postgres"
            )
        effect = net_effect(plan.changes, existing_holds, existing_sales, event_id, now_ms)
        main_columns_of_batch = main_columns(effect)
    await _write_existing(connection, event_id, effect, now_ms)
    if effect.capacity_added:
        # Before the counts: units the batch holds may be ones it added.
        grown = await connection.fetch(
            ADD_CAPACITY,
            event_id,
            list(effect.capacity_added),
            list(effect.capacity_added.values()),
        )
        if len(grown) != len(effect.capacity_added):
            raise InventoryConflict(f"event {event_id}: capacity added to a type not general")
    await write_new_codes(connection, tenant_id, event_id, effect, now_ms)
    if effect.forgotten:
        await connection.execute(DELETE_IDEMPOTENCY_RECORDS, event_id, list(effect.forgotten))
    if main_columns_of_batch is not None:
        await connection.execute(
            INSERT_HOLDS_COUNTS_AND_RECORDS, tenant_id, event_id, now_ms, *main_columns_of_batch
        )
    await _write_new_rows(connection, tenant_id, event_id, effect, now_ms)
    conflict = await write_wait_list(connection, tenant_id, event_id, effect.wait_list, now_ms)
    if conflict is None:
        conflict = await write_code_tallies(connection, tenant_id, event_id, effect)
    if conflict is not None:
        raise InventoryConflict(conflict)
    await _write_event(connection, event_id, effect)
    outbox = outbox_rows(effect)
    if outbox.topics:
        await connection.execute(INSERT_OUTBOX, tenant_id, *outbox)


async def _write_existing(
    connection: asyncpg.Connection, event_id: uuid.UUID, effect: BatchEffect, now_ms: int
) -> None:
    """Holds and sales that existed before the batch and changed in it; first, so the seat
    claims they end are free before the batch's new claims are written."""
    holds = changed_holds(effect)
    if holds.hold_ids:
        updated = await connection.fetchval(UPDATE_CHANGED_HOLDS, event_id, now_ms, *holds)
        if updated != len(holds.hold_ids):
            raise InventoryConflict(f"event {event_id}: a hold changed is not active")
    if not await write_returned_sales(connection, event_id, effect):
        raise InventoryConflict(f"event {event_id}: a sale partly returned is not live")
    sales = ended_sales(effect)
    if sales.order_ids:
        updated = await connection.fetchval(UPDATE_ENDED_SALES, event_id, now_ms, *sales)
        if updated != len(sales.order_ids):
            raise InventoryConflict(f"event {event_id}: a sale ended is not live")
    claims_ended = holds_of_sales_ended_at_once(effect)
    if claims_ended:
        await connection.execute(END_SEAT_CLAIMS_OF_HOLDS, event_id, claims_ended)


async def _write_new_rows(
    connection: asyncpg.Connection,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    effect: BatchEffect,
    now_ms: int,
) -> None:
    """After the holds exist: their seat claims, the new sales and their items, the seats' states
    and the withheld units."""
    claims = new_hold_seats(effect)
    if claims.hold_ids:
        inserted = await connection.fetchval(INSERT_HOLD_SEATS, tenant_id, event_id, *claims)
        if inserted != len(claims.hold_ids):
            raise InventoryConflict(f"event {event_id}: a held seat is not a seat of the event")
    sales = new_sales(effect)
    if sales.order_ids:
        await connection.execute(INSERT_SALES, tenant_id, event_id, now_ms, *sales)
        await connection.execute(INSERT_SALE_ITEMS, tenant_id, event_id, *new_sale_items(effect))
    moves = seat_moves(effect)
    if moves.labels:
        moved = await connection.fetchval(
            UPDATE_SEAT_STATES, event_id, *moves, list(WITHHELD_SEAT_STATE_NAMES)
        )
        if moved != len(moves.labels):
            raise InventoryConflict(
                f"event {event_id}: {len(moves.labels) - moved} seats are not in the state the "
                "batch leaves"
            )
    withheld = withheld_deltas(effect)
    if withheld.deltas:
        await connection.execute(UPSERT_WITHHELD_UNITS, tenant_id, event_id, *withheld)


async def _write_event(
    connection: asyncpg.Connection, event_id: uuid.UUID, effect: BatchEffect
) -> None:
    """The sale's pause and settings, and its ticket types' own, when the batch changes them."""
    if effect.paused is not None:
        await connection.execute(UPDATE_PAUSED, event_id, effect.paused)
    if effect.cancellation_reason is not None:
        await connection.execute(CANCEL_EVENT, event_id, effect.cancellation_reason)
    if effect.settings is not None:
        settings = effect.settings
        await connection.execute(
            UPDATE_SALE_SETTINGS,
            event_id,
            settings.opens_at_ms,
            settings.closes_at_ms,
            settings.hold_ttl_ms // MILLISECONDS_PER_SECOND,
            settings.max_tickets_per_user,
            settings.wait_list_enabled,
            settings.offer_ttl_ms // MILLISECONDS_PER_SECOND,
            settings.accessible_release_at_ms,
        )
    changed = list(effect.ticket_type_sales.values())
    if changed:
        await connection.execute(
            UPDATE_TICKET_TYPE_SALES,
            event_id,
            [change.ticket_type_id for change in changed],
            [change.price_cents for change in changed],
            [change.on_sale_from_ms for change in changed],
            [change.on_sale_until_ms for change in changed],
            [price_phases_json(change.price_phases) for change in changed],
        )
