"""The inventory of one event in Postgres: the group commit that records a batch of the engine's
changes, and the rows `Inventory.rebuild` reads back.

`write_changes` runs in the caller's fenced transaction (persistence.epochs): the net effect
of the whole batch in multi-row statements, outbox rows included; the rows no other write of the
batch depends on (new holds and items, counters, idempotency records) share one statement. Every
move is checked against the state it leaves (a seat, a hold, a sale), so Postgres refuses what the
engine should never have decided and the caller's transaction rolls back whole. A new change kind
goes into `referenced_ids`, `net_effect` and `OUTBOX_TOPICS` together.
"""

import dataclasses
import typing
import uuid
from collections.abc import Iterable, Sequence
from typing import assert_never

import asyncpg
import msgspec

from engine.changes import (
    Change,
    CompsIssued,
    HoldConverted,
    HoldExtended,
    HoldPlaced,
    HoldReleased,
    HoldsExpired,
    IdempotencyKeyRecorded,
    IdempotencyKeysForgotten,
    OrderCancelled,
    OrderRefunded,
    SalePaused,
    SaleResumed,
    SaleSettingsChanged,
    SeatsBlocked,
    SeatsUnblocked,
    UnitsWithheld,
    WithheldUnitsReturned,
)
from engine.commands import Withholding
from engine.holds import Hold, HoldItem, Sale
from engine.ids import HoldId, IdempotencyKey, OrderId, SeatId, TicketTypeId
from engine.inventory.rows import InventoryRows, SeatRow, WithheldUnitsRow
from engine.inventory.state import WITHHOLDING_SEAT_STATES
from engine.outcomes import IdempotencyRecord, Outcome
from engine.pricing import Price, price_order
from engine.seat_map import SeatState
from persistence.epochs import FencedTransaction
from persistence.event_repository import MILLISECONDS_PER_SECOND, load_inventory_configuration


class InventoryConflict(RuntimeError):
    """Postgres holds a hold, sale or seat in another state than the batch leaves: nothing is
    written, and the actor that decided the batch must rebuild."""


SEAT_STATE_NAMES: dict[SeatState, str] = {state: state.name.lower() for state in SeatState}
SEAT_STATES_BY_NAME = {name: state for state, name in SEAT_STATE_NAMES.items()}
WITHHELD_SEAT_STATE_NAMES = tuple(
    SEAT_STATE_NAMES[state] for state in WITHHOLDING_SEAT_STATES.values()
)
# The state a seat leaves when it is unblocked without the batch knowing which withholding it had.
ANY_WITHHELD_STATE = "withheld"
WITHHOLDING_ORDER = {withholding: position for position, withholding in enumerate(Withholding)}

ACTIVE = "active"
RELEASED = "released"
EXPIRED = "expired"
CONVERTED = "converted"
LIVE = "live"
REFUNDED = "refunded"
CANCELLED = "cancelled"

# Only facts another part reacts to leave through the outbox; a hold placed or released by its
# fan concerns nobody else (its row records it), and at one row per hold it would be the costliest
# write of the hot path.
OUTBOX_TOPICS: dict[type, str | None] = {
    HoldPlaced: None,
    HoldReleased: None,
    HoldsExpired: "holds.expired",
    HoldExtended: None,
    HoldConverted: "hold.converted",
    OrderRefunded: "order.refunded",
    OrderCancelled: "order.cancelled",
    CompsIssued: "comps.issued",
    SeatsBlocked: None,
    SeatsUnblocked: None,
    UnitsWithheld: None,
    WithheldUnitsReturned: None,
    SalePaused: "sale.paused",
    SaleResumed: "sale.resumed",
    SaleSettingsChanged: None,
    IdempotencyKeyRecorded: None,
    IdempotencyKeysForgotten: None,
}
assert set(OUTBOX_TOPICS) == set(typing.get_args(Change))


class InventoryChangeMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of an inventory outbox row: the change as the engine recorded it."""

    event_id: uuid.UUID
    recorded_at_ms: int
    change: Change


def outbox_aggregate(change: Change, event_id: uuid.UUID) -> str:
    """What a message is ordered within: its hold or order, else the event's whole inventory."""
    match change:
        case HoldPlaced(hold=hold):
            return hold.hold_id
        case HoldReleased(hold_id=hold_id) | HoldConverted(hold_id=hold_id):
            return hold_id
        case OrderRefunded(order_id=order_id) | OrderCancelled(order_id=order_id):
            return order_id
        case CompsIssued(sale=sale):
            return sale.order_id
        case _:
            return str(event_id)


OUTBOX_ENCODER = msgspec.json.Encoder()
OUTCOME_ENCODER = msgspec.msgpack.Encoder()
OUTCOME_DECODER = msgspec.msgpack.Decoder(Outcome)


@dataclasses.dataclass(slots=True)
class HoldDraft:
    hold: Hold
    status: str
    is_new: bool


@dataclasses.dataclass(slots=True)
class SaleDraft:
    sale: Sale
    status: str
    is_new: bool
    hold_id: HoldId | None = None
    allocation: Withholding | None = None
    price: Price | None = None


@dataclasses.dataclass(slots=True)
class SeatMove:
    before: str
    after: str


@dataclasses.dataclass(slots=True)
class BatchEffect:
    """The net effect of one batch: the final state of everything it touched."""

    holds: dict[HoldId, HoldDraft] = dataclasses.field(default_factory=dict)
    sales: dict[OrderId, SaleDraft] = dataclasses.field(default_factory=dict)
    seats: dict[SeatId, SeatMove] = dataclasses.field(default_factory=dict)
    withheld_deltas: dict[tuple[TicketTypeId, Withholding], int] = dataclasses.field(
        default_factory=dict
    )
    recorded: dict[IdempotencyKey, IdempotencyRecord] = dataclasses.field(default_factory=dict)
    forgotten: set[IdempotencyKey] = dataclasses.field(default_factory=set)
    paused: bool | None = None
    settings: SaleSettingsChanged | None = None
    outbox: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    def move_seats(self, seats: Iterable[SeatId], before: str, after: str) -> None:
        for seat_id in seats:
            move = self.seats.get(seat_id)
            if move is None:
                self.seats[seat_id] = SeatMove(before=before, after=after)
                continue
            left = move.after
            if before == ANY_WITHHELD_STATE:
                assert left in WITHHELD_SEAT_STATE_NAMES, (seat_id, left)
            else:
                assert left == before, (seat_id, left, before)
            move.after = after

    def end_hold(self, hold_id: HoldId, status: str) -> Hold:
        draft = self.holds[hold_id]
        assert draft.status == ACTIVE, (hold_id, draft.status)
        draft.status = status
        return draft.hold

    def add_sale(self, draft: SaleDraft) -> None:
        assert draft.sale.order_id not in self.sales, draft.sale.order_id
        self.sales[draft.sale.order_id] = draft
        self.move_seats(
            draft.sale.seats,
            SEAT_STATE_NAMES[SeatState.HELD]
            if draft.allocation is None
            else SEAT_STATE_NAMES[WITHHOLDING_SEAT_STATES[draft.allocation]],
            SEAT_STATE_NAMES[SeatState.SOLD],
        )

    def add_withheld(
        self, ticket_type_id: TicketTypeId, withholding: Withholding, delta: int
    ) -> None:
        key = (ticket_type_id, withholding)
        self.withheld_deltas[key] = self.withheld_deltas.get(key, 0) + delta


def referenced_ids(changes: Sequence[Change]) -> tuple[list[HoldId], list[OrderId]]:
    """Holds and sales the batch changes that it did not create: they must already be live."""
    placed: set[HoldId] = set()
    sold: set[OrderId] = set()
    holds: list[HoldId] = []
    sales: list[OrderId] = []
    for change in changes:
        match change:
            case HoldPlaced(hold=hold):
                placed.add(hold.hold_id)
            case HoldReleased(hold_id=hold_id) | HoldExtended(hold_id=hold_id):
                holds.append(hold_id)
            case HoldConverted(hold_id=hold_id, sale=sale):
                holds.append(hold_id)
                sold.add(sale.order_id)
            case HoldsExpired(hold_ids=hold_ids):
                holds.extend(hold_ids)
            case CompsIssued(sale=sale):
                sold.add(sale.order_id)
            case OrderRefunded(order_id=order_id) | OrderCancelled(order_id=order_id):
                sales.append(order_id)
            case (
                SeatsBlocked()
                | SeatsUnblocked()
                | UnitsWithheld()
                | WithheldUnitsReturned()
                | SalePaused()
                | SaleResumed()
                | SaleSettingsChanged()
                | IdempotencyKeyRecorded()
                | IdempotencyKeysForgotten()
            ):
                pass
            case _:
                assert_never(change)
    return (
        list(dict.fromkeys(hold_id for hold_id in holds if hold_id not in placed)),
        list(dict.fromkeys(order_id for order_id in sales if order_id not in sold)),
    )


def net_effect(
    changes: Sequence[Change],
    existing_holds: Iterable[Hold],
    existing_sales: Iterable[Sale],
    event_id: uuid.UUID,
    now_ms: int,
) -> BatchEffect:
    """Fold the batch, in order, into the final state of each hold, sale, seat and count."""
    effect = BatchEffect()
    for hold in existing_holds:
        effect.holds[hold.hold_id] = HoldDraft(hold=hold, status=ACTIVE, is_new=False)
    for sale in existing_sales:
        effect.sales[sale.order_id] = SaleDraft(sale=sale, status=LIVE, is_new=False)
    available = SEAT_STATE_NAMES[SeatState.AVAILABLE]
    held = SEAT_STATE_NAMES[SeatState.HELD]
    sold = SEAT_STATE_NAMES[SeatState.SOLD]
    for change in changes:
        match change:
            case HoldPlaced(hold=hold):
                assert hold.hold_id not in effect.holds, hold.hold_id
                effect.holds[hold.hold_id] = HoldDraft(hold=hold, status=ACTIVE, is_new=True)
                effect.move_seats(hold.seats, available, held)
            case HoldReleased(hold_id=hold_id):
                effect.move_seats(effect.end_hold(hold_id, RELEASED).seats, held, available)
            case HoldsExpired(hold_ids=hold_ids):
                for hold_id in hold_ids:
                    effect.move_seats(effect.end_hold(hold_id, EXPIRED).seats, held, available)
            case HoldExtended(hold_id=hold_id, expires_at_ms=expires_at_ms):
                draft = effect.holds[hold_id]
                assert draft.status == ACTIVE, hold_id
                draft.hold = msgspec.structs.replace(
                    draft.hold, expires_at_ms=expires_at_ms, extensions=draft.hold.extensions + 1
                )
            case HoldConverted(hold_id=hold_id, sale=sale, price=price):
                effect.end_hold(hold_id, CONVERTED)
                effect.add_sale(
                    SaleDraft(sale=sale, status=LIVE, is_new=True, hold_id=hold_id, price=price)
                )
            case OrderRefunded(order_id=order_id) | OrderCancelled(order_id=order_id):
                draft = effect.sales[order_id]
                assert draft.status == LIVE, order_id
                draft.status = REFUNDED if isinstance(change, OrderRefunded) else CANCELLED
                effect.move_seats(draft.sale.seats, sold, available)
            case CompsIssued(sale=sale, allocation=allocation):
                effect.add_sale(
                    SaleDraft(
                        sale=sale,
                        status=LIVE,
                        is_new=True,
                        allocation=allocation,
                        price=price_order(sale.subtotal_cents),
                    )
                )
                if not sale.seats:
                    for item in sale.items:
                        effect.add_withheld(item.ticket_type_id, allocation, -item.quantity)
            case SeatsBlocked(seats=seats, withholding=withholding):
                effect.move_seats(
                    seats, available, SEAT_STATE_NAMES[WITHHOLDING_SEAT_STATES[withholding]]
                )
            case SeatsUnblocked(seats=seats):
                effect.move_seats(seats, ANY_WITHHELD_STATE, available)
            case UnitsWithheld(
                ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
            ):
                effect.add_withheld(ticket_type_id, withholding, quantity)
            case WithheldUnitsReturned(
                ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
            ):
                effect.add_withheld(ticket_type_id, withholding, -quantity)
            case SalePaused():
                effect.paused = True
            case SaleResumed():
                effect.paused = False
            case SaleSettingsChanged():
                effect.settings = change
            case IdempotencyKeyRecorded(record=record):
                assert record.key not in effect.recorded, record.key
                effect.recorded[record.key] = record
            case IdempotencyKeysForgotten(keys=keys):
                for key in keys:
                    if effect.recorded.pop(key, None) is None:
                        effect.forgotten.add(key)
            case _:
                assert_never(change)
        topic = OUTBOX_TOPICS[type(change)]
        if topic is not None:
            message = InventoryChangeMessage(
                event_id=event_id, recorded_at_ms=now_ms, change=change
            )
            payload = OUTBOX_ENCODER.encode(message).decode()
            effect.outbox.append((topic, outbox_aggregate(change, event_id), payload))
    return effect


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
# starts at its first item ($10) and holds its item count ($11).
INSERT_HOLDS_COUNTS_AND_RECORDS = """
WITH new_holds AS (
    INSERT INTO holds (id, tenant_id, event_id, user_id, status, subtotal_cents, expires_at,
                       created_at, ended_at, extensions, item_ticket_type_ids, item_quantities,
                       item_unit_prices_cents)
    SELECT new.id, $1, $2, new.user_id, new.status, new.subtotal_cents,
           timestamptz 'epoch' + new.expires_at_ms * interval '1 millisecond',
           timestamptz 'epoch' + $3::bigint * interval '1 millisecond',
           CASE WHEN new.status = 'active' THEN NULL
                ELSE timestamptz 'epoch' + $3::bigint * interval '1 millisecond' END,
           new.extensions,
           ($12::uuid[])[new.first_item:new.first_item + new.item_count - 1],
           ($13::integer[])[new.first_item:new.first_item + new.item_count - 1],
           ($14::bigint[])[new.first_item:new.first_item + new.item_count - 1]
    FROM unnest($4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::integer[],
                $10::integer[], $11::integer[])
         AS new (id, user_id, status, subtotal_cents, expires_at_ms, extensions, first_item,
                 item_count)
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

UPDATE_SALE_SETTINGS = """
UPDATE events
SET opens_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond',
    closes_at = timestamptz 'epoch' + $3::bigint * interval '1 millisecond',
    hold_ttl_s = $4, max_tickets_per_user = $5, updated_at = now()
WHERE id = $1
"""

INSERT_OUTBOX = """
INSERT INTO outbox (tenant_id, topic, aggregate_id, payload)
SELECT $1, new.topic, new.aggregate_id, new.payload::jsonb
FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY
    AS new (topic, aggregate_id, payload, ordinal)
ORDER BY new.ordinal
"""


@dataclasses.dataclass(slots=True, frozen=True)
class ChangePlan:
    """What can be worked out of a batch before its transaction opens: the holds and sales it
    changes that existed before it (Postgres must still hold them live) and, when there are none,
    its whole net effect and the columns of its main statement, so a caller can prepare the next
    batch while the previous one commits."""

    event_id: uuid.UUID
    now_ms: int
    changes: Sequence[Change]
    hold_ids: list[HoldId]
    order_ids: list[OrderId]
    effect: BatchEffect | None
    main_columns: list[list[typing.Any]] | None


def plan_changes(changes: Sequence[Change], *, event_id: uuid.UUID, now_ms: int) -> ChangePlan:
    hold_ids, order_ids = referenced_ids(changes)
    if hold_ids or order_ids:
        return ChangePlan(
            event_id=event_id,
            now_ms=now_ms,
            changes=changes,
            hold_ids=hold_ids,
            order_ids=order_ids,
            effect=None,
            main_columns=None,
        )
    effect = net_effect(changes, (), (), event_id, now_ms)
    return ChangePlan(
        event_id=event_id,
        now_ms=now_ms,
        changes=changes,
        hold_ids=hold_ids,
        order_ids=order_ids,
        effect=effect,
        main_columns=_main_columns(effect),
    )


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
    effect, main_columns = plan.effect, plan.main_columns
    if effect is None:
        hold_ids, order_ids = plan.hold_ids, plan.order_ids
        existing_holds = await _load_holds(connection, event_id, hold_ids) if hold_ids else ()
        existing_sales = await _load_sales(connection, event_id, order_ids) if order_ids else ()
        if len(existing_holds) != len(hold_ids) or len(existing_sales) != len(order_ids):
            raise InventoryConflict(
                f"event {event_id}: the batch ends holds or sales that are not live in Postgres"
            )
        effect = net_effect(plan.changes, existing_holds, existing_sales, event_id, now_ms)
        main_columns = _main_columns(effect)
    await _write_existing(connection, event_id, effect, now_ms)
    if effect.forgotten:
        await connection.execute(DELETE_IDEMPOTENCY_RECORDS, event_id, list(effect.forgotten))
    if main_columns is not None:
        await connection.execute(
            INSERT_HOLDS_COUNTS_AND_RECORDS, tenant_id, event_id, now_ms, *main_columns
        )
    await _write_new_hold_seats(connection, tenant_id, event_id, effect)
    await _write_new_sales(connection, tenant_id, event_id, effect, now_ms)
    await _write_seats(connection, event_id, effect)
    await _write_withheld_units(connection, tenant_id, event_id, effect)
    if effect.paused is not None:
        await connection.execute(UPDATE_PAUSED, event_id, effect.paused)
    if effect.settings is not None:
        settings = effect.settings
        await connection.execute(
            UPDATE_SALE_SETTINGS,
            event_id,
            settings.opens_at_ms,
            settings.closes_at_ms,
            settings.hold_ttl_ms // MILLISECONDS_PER_SECOND,
            settings.max_tickets_per_user,
        )
    if effect.outbox:
        topics, aggregates, payloads = zip(*effect.outbox, strict=True)
        await connection.execute(
            INSERT_OUTBOX, tenant_id, list(topics), list(aggregates), list(payloads)
        )


def _holds_of_live_sales(effect: BatchEffect) -> set[HoldId]:
    return {
        draft.hold_id
        for draft in effect.sales.values()
        if draft.status == LIVE and draft.hold_id is not None
    }


async def _write_existing(
    connection: asyncpg.Connection, event_id: uuid.UUID, effect: BatchEffect, now_ms: int
) -> None:
    """Holds and sales that existed before the batch and changed in it; first, so the seat
    claims they end are free before the batch's new claims are written."""
    touched_holds = [draft for draft in effect.holds.values() if not draft.is_new]
    if touched_holds:
        updated = await connection.fetchval(
            UPDATE_CHANGED_HOLDS,
            event_id,
            now_ms,
            [draft.hold.hold_id for draft in touched_holds],
            [draft.status for draft in touched_holds],
            [draft.hold.expires_at_ms for draft in touched_holds],
            [draft.hold.extensions for draft in touched_holds],
        )
        if updated != len(touched_holds):
            raise InventoryConflict(f"event {event_id}: a hold changed is not active")
    ended_sales = [
        draft for draft in effect.sales.values() if not draft.is_new and draft.status != LIVE
    ]
    if ended_sales:
        updated = await connection.fetchval(
            UPDATE_ENDED_SALES,
            event_id,
            now_ms,
            [draft.sale.order_id for draft in ended_sales],
            [draft.status for draft in ended_sales],
        )
        if updated != len(ended_sales):
            raise InventoryConflict(f"event {event_id}: a sale ended is not live")
    holds_of_sales_ended_at_once = [
        draft.hold_id
        for draft in effect.sales.values()
        if draft.is_new
        and draft.status != LIVE
        and draft.hold_id is not None
        and not effect.holds[draft.hold_id].is_new
    ]
    if holds_of_sales_ended_at_once:
        await connection.execute(END_SEAT_CLAIMS_OF_HOLDS, event_id, holds_of_sales_ended_at_once)


def _main_columns(effect: BatchEffect) -> list[list[typing.Any]] | None:
    """The arrays of INSERT_HOLDS_COUNTS_AND_RECORDS from $4 on; None when it has nothing to do."""
    new_holds = [draft for draft in effect.holds.values() if draft.is_new]
    ticket_type_ids, held, sold = _count_deltas(effect)
    records = list(effect.recorded.values())
    if not (new_holds or ticket_type_ids or records):
        return None
    return [
        [draft.hold.hold_id for draft in new_holds],
        [draft.hold.fan_id for draft in new_holds],
        [draft.status for draft in new_holds],
        [draft.hold.subtotal_cents for draft in new_holds],
        [draft.hold.expires_at_ms for draft in new_holds],
        [draft.hold.extensions for draft in new_holds],
        *_hold_item_columns(draft.hold.items for draft in new_holds),
        ticket_type_ids,
        held,
        sold,
        [record.key for record in records],
        [record.fingerprint for record in records],
        [OUTCOME_ENCODER.encode(record.outcome) for record in records],
        [record.recorded_at_ms for record in records],
    ]


async def _write_new_hold_seats(
    connection: asyncpg.Connection, tenant_id: uuid.UUID, event_id: uuid.UUID, effect: BatchEffect
) -> None:
    """After the holds exist: a hold's seat claims live while it is active, or while the sale
    it became is live."""
    converted_to_live_sales = _holds_of_live_sales(effect)
    seats = [
        (
            draft.hold.hold_id,
            seat_id,
            position,
            draft.status == ACTIVE or draft.hold.hold_id in converted_to_live_sales,
        )
        for draft in effect.holds.values()
        if draft.is_new
        for position, seat_id in enumerate(draft.hold.seats)
    ]
    if seats:
        inserted = await connection.fetchval(
            INSERT_HOLD_SEATS,
            tenant_id,
            event_id,
            *(list(column) for column in zip(*seats, strict=True)),
        )
        if inserted != len(seats):
            raise InventoryConflict(f"event {event_id}: a held seat is not a seat of the event")


def _hold_item_columns(
    items_of_holds: Iterable[tuple[HoldItem, ...]],
) -> tuple[list[int], list[int], list[str], list[int], list[int]]:
    """Where each hold's items start (from 1) and how many there are, then the items of all the
    holds end to end: ticket types, quantities, unit prices."""
    first_items: list[int] = []
    item_counts: list[int] = []
    ticket_type_ids: list[str] = []
    quantities: list[int] = []
    unit_prices_cents: list[int] = []
    for items in items_of_holds:
        first_items.append(len(ticket_type_ids) + 1)
        item_counts.append(len(items))
        for item in items:
            ticket_type_ids.append(item.ticket_type_id)
            quantities.append(item.quantity)
            unit_prices_cents.append(item.unit_price_cents)
    return first_items, item_counts, ticket_type_ids, quantities, unit_prices_cents


def _item_columns(
    items_by_owner: Iterable[tuple[str, tuple[HoldItem, ...]]],
) -> tuple[list[str], list[str], list[int], list[int], list[int]]:
    owners: list[str] = []
    ticket_type_ids: list[str] = []
    positions: list[int] = []
    quantities: list[int] = []
    unit_prices_cents: list[int] = []
    for owner, items in items_by_owner:
        for position, item in enumerate(items):
            owners.append(owner)
            ticket_type_ids.append(item.ticket_type_id)
            positions.append(position)
            quantities.append(item.quantity)
            unit_prices_cents.append(item.unit_price_cents)
    return owners, ticket_type_ids, positions, quantities, unit_prices_cents


async def _write_new_sales(
    connection: asyncpg.Connection,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    effect: BatchEffect,
    now_ms: int,
) -> None:
    new_sales = [draft for draft in effect.sales.values() if draft.is_new]
    if not new_sales:
        return
    prices = [draft.price or price_order(draft.sale.subtotal_cents) for draft in new_sales]
    await connection.execute(
        INSERT_SALES,
        tenant_id,
        event_id,
        now_ms,
        [draft.sale.order_id for draft in new_sales],
        [draft.sale.fan_id for draft in new_sales],
        [draft.hold_id for draft in new_sales],
        [draft.allocation.value if draft.allocation else None for draft in new_sales],
        [" ".join(draft.sale.seats) for draft in new_sales],
        [price.subtotal_cents for price in prices],
        [price.fees_cents for price in prices],
        [price.total_cents for price in prices],
        [draft.status for draft in new_sales],
    )
    await connection.execute(
        INSERT_SALE_ITEMS,
        tenant_id,
        event_id,
        *_item_columns((draft.sale.order_id, draft.sale.items) for draft in new_sales),
    )


async def _write_seats(
    connection: asyncpg.Connection, event_id: uuid.UUID, effect: BatchEffect
) -> None:
    if not effect.seats:
        return
    labels = list(effect.seats)
    moved = await connection.fetchval(
        UPDATE_SEAT_STATES,
        event_id,
        labels,
        [move.before for move in effect.seats.values()],
        [move.after for move in effect.seats.values()],
        list(WITHHELD_SEAT_STATE_NAMES),
    )
    if moved != len(labels):
        raise InventoryConflict(
            f"event {event_id}: {len(labels) - moved} seats are not in the state the batch leaves"
        )


def _count_deltas(effect: BatchEffect) -> tuple[list[TicketTypeId], list[int], list[int]]:
    """The ticket types whose held or sold counters the batch moves, and by how much."""
    held: dict[TicketTypeId, int] = {}
    sold: dict[TicketTypeId, int] = {}
    for hold_draft in effect.holds.values():
        factor = (hold_draft.status == ACTIVE) - (not hold_draft.is_new)
        for item in hold_draft.hold.items if factor else ():
            held[item.ticket_type_id] = held.get(item.ticket_type_id, 0) + factor * item.quantity
    for sale_draft in effect.sales.values():
        factor = (sale_draft.status == LIVE) - (not sale_draft.is_new)
        for item in sale_draft.sale.items if factor else ():
            sold[item.ticket_type_id] = sold.get(item.ticket_type_id, 0) + factor * item.quantity
    ticket_type_ids = [
        ticket_type_id
        for ticket_type_id in dict.fromkeys([*held, *sold])
        if held.get(ticket_type_id, 0) or sold.get(ticket_type_id, 0)
    ]
    return (
        ticket_type_ids,
        [held.get(ticket_type_id, 0) for ticket_type_id in ticket_type_ids],
        [sold.get(ticket_type_id, 0) for ticket_type_id in ticket_type_ids],
    )


async def _write_withheld_units(
    connection: asyncpg.Connection, tenant_id: uuid.UUID, event_id: uuid.UUID, effect: BatchEffect
) -> None:
    withheld = [(key, delta) for key, delta in effect.withheld_deltas.items() if delta]
    if withheld:
        await connection.execute(
            UPSERT_WITHHELD_UNITS,
            tenant_id,
            event_id,
            [ticket_type_id for (ticket_type_id, _), _ in withheld],
            [withholding.value for (_, withholding), _ in withheld],
            [delta for _, delta in withheld],
        )


SELECT_PAUSED = "SELECT status = 'paused' FROM events WHERE id = $1"

SELECT_UNAVAILABLE_SEATS = """
SELECT label, state FROM seats WHERE event_id = $1 AND state <> 'available' ORDER BY seat_index
"""

SELECT_WITHHELD_UNITS = """
SELECT ticket_type_id::text AS ticket_type_id, withholding, quantity
FROM withheld_units
WHERE event_id = $1 AND quantity > 0
"""

SELECT_HOLDS = """
SELECT id::text AS hold_id, user_id, extensions,
       (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms,
       item_ticket_type_ids::text[], item_quantities, item_unit_prices_cents
FROM holds
WHERE event_id = $1 AND status = 'active'
"""

SELECT_HOLD_SEATS = """
SELECT hold_seats.hold_id::text AS owner, seats.label
FROM hold_seats
JOIN holds ON holds.id = hold_seats.hold_id
JOIN seats ON seats.id = hold_seats.seat_id
WHERE hold_seats.event_id = $1 AND holds.status = 'active'
ORDER BY hold_seats.hold_id, hold_seats.position
"""

SELECT_HOLDS_BY_ID = """
SELECT id::text AS hold_id, user_id, extensions,
       (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms,
       item_ticket_type_ids::text[], item_quantities, item_unit_prices_cents
FROM holds
WHERE id = ANY($2::uuid[]) AND event_id = $1 AND status = 'active'
"""

SELECT_HOLD_SEATS_BY_HOLD = """
SELECT hold_seats.hold_id::text AS owner, seats.label
FROM hold_seats
JOIN seats ON seats.id = hold_seats.seat_id
WHERE hold_seats.hold_id = ANY($2::uuid[]) AND hold_seats.event_id = $1
ORDER BY hold_seats.hold_id, hold_seats.position
"""

SELECT_SALES = """
SELECT order_id::text AS order_id, user_id, complimentary, seat_labels
FROM sales
WHERE event_id = $1 AND status = 'live'
"""

SELECT_SALE_ITEMS = """
SELECT sale_items.order_id::text AS owner, sale_items.ticket_type_id::text AS ticket_type_id,
       sale_items.quantity, sale_items.unit_price_cents
FROM sale_items
JOIN sales ON sales.order_id = sale_items.order_id
WHERE sale_items.event_id = $1 AND sales.status = 'live'
ORDER BY sale_items.order_id, sale_items.position
"""

SELECT_SALES_BY_ID = """
SELECT order_id::text AS order_id, user_id, complimentary, seat_labels
FROM sales
WHERE order_id = ANY($2::uuid[]) AND event_id = $1 AND status = 'live'
"""

SELECT_SALE_ITEMS_BY_SALE = """
SELECT order_id::text AS owner, ticket_type_id::text AS ticket_type_id, quantity,
       unit_price_cents
FROM sale_items
WHERE order_id = ANY($2::uuid[]) AND event_id = $1
ORDER BY order_id, position
"""

SELECT_IDEMPOTENCY_RECORDS = """
SELECT key, fingerprint, outcome, recorded_at_ms
FROM inventory_idempotency_records
WHERE event_id = $1
ORDER BY position
"""


async def load_inventory_rows(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> InventoryRows:
    """Everything `Inventory.rebuild` needs, in `InventoryRows`' canonical order."""
    configuration = await load_inventory_configuration(connection, event_id=event_id)
    paused = bool(await connection.fetchval(SELECT_PAUSED, event_id))
    seats = tuple(
        SeatRow(seat_id=row["label"], state=SEAT_STATES_BY_NAME[row["state"]])
        for row in await connection.fetch(SELECT_UNAVAILABLE_SEATS, event_id)
    )
    withheld_units = tuple(
        sorted(
            (
                WithheldUnitsRow(
                    ticket_type_id=row["ticket_type_id"],
                    withholding=Withholding(row["withholding"]),
                    quantity=row["quantity"],
                )
                for row in await connection.fetch(SELECT_WITHHELD_UNITS, event_id)
            ),
            key=lambda row: (row.ticket_type_id, WITHHOLDING_ORDER[row.withholding]),
        )
    )
    holds = await _load_holds(connection, event_id, None)
    sales = await _load_sales(connection, event_id, None)
    idempotency_records = tuple(
        IdempotencyRecord(
            key=row["key"],
            fingerprint=row["fingerprint"],
            outcome=OUTCOME_DECODER.decode(row["outcome"]),
            recorded_at_ms=row["recorded_at_ms"],
        )
        for row in await connection.fetch(SELECT_IDEMPOTENCY_RECORDS, event_id)
    )
    return InventoryRows(
        configuration=configuration,
        paused=paused,
        seats=seats,
        withheld_units=withheld_units,
        holds=holds,
        sales=sales,
        idempotency_records=idempotency_records,
    )


async def _fetch(
    connection: asyncpg.Connection, query: str, event_id: uuid.UUID, ids: list[str] | None
) -> list[asyncpg.Record]:
    if ids is None:
        return await connection.fetch(query, event_id)
    return await connection.fetch(query, event_id, ids)


async def _load_items(
    connection: asyncpg.Connection, query: str, event_id: uuid.UUID, ids: list[str] | None
) -> dict[str, list[HoldItem]]:
    items: dict[str, list[HoldItem]] = {}
    for row in await _fetch(connection, query, event_id, ids):
        owner_items = items.get(row["owner"])
        if owner_items is None:
            owner_items = items[row["owner"]] = []
        owner_items.append(
            HoldItem(
                ticket_type_id=row["ticket_type_id"],
                quantity=row["quantity"],
                unit_price_cents=row["unit_price_cents"],
            )
        )
    return items


async def _load_holds(
    connection: asyncpg.Connection, event_id: uuid.UUID, hold_ids: list[HoldId] | None
) -> tuple[Hold, ...]:
    """The event's active holds sorted by id: all of them, or those of `hold_ids`."""
    every = hold_ids is None
    rows = await _fetch(
        connection, SELECT_HOLDS if every else SELECT_HOLDS_BY_ID, event_id, hold_ids
    )
    seats: dict[str, list[SeatId]] = {}
    seat_query = SELECT_HOLD_SEATS if every else SELECT_HOLD_SEATS_BY_HOLD
    for row in await _fetch(connection, seat_query, event_id, hold_ids):
        hold_seats = seats.get(row["owner"])
        if hold_seats is None:
            hold_seats = seats[row["owner"]] = []
        hold_seats.append(row["label"])
    holds = [
        Hold(
            hold_id=row["hold_id"],
            fan_id=row["user_id"],
            items=hold_items_of(row),
            seats=tuple(seats.get(row["hold_id"], ())),
            expires_at_ms=row["expires_at_ms"],
            extensions=row["extensions"],
        )
        for row in rows
    ]
    holds.sort(key=lambda hold: hold.hold_id)
    return tuple(holds)


def hold_items_of(row: asyncpg.Record) -> tuple[HoldItem, ...]:
    """The items of a holds row, from its item arrays (ticket type ids read as text)."""
    return tuple(
        HoldItem(ticket_type_id=ticket_type_id, quantity=quantity, unit_price_cents=price_cents)
        for ticket_type_id, quantity, price_cents in zip(
            row["item_ticket_type_ids"],
            row["item_quantities"],
            row["item_unit_prices_cents"],
            strict=True,
        )
    )


async def _load_sales(
    connection: asyncpg.Connection, event_id: uuid.UUID, order_ids: list[OrderId] | None
) -> tuple[Sale, ...]:
    """The event's live sales sorted by order id: all of them, or those of `order_ids`."""
    every = order_ids is None
    rows = await _fetch(
        connection, SELECT_SALES if every else SELECT_SALES_BY_ID, event_id, order_ids
    )
    items = await _load_items(
        connection, SELECT_SALE_ITEMS if every else SELECT_SALE_ITEMS_BY_SALE, event_id, order_ids
    )
    sales = [
        Sale(
            order_id=row["order_id"],
            fan_id=row["user_id"],
            items=tuple(items.get(row["order_id"], ())),
            seats=tuple(row["seat_labels"]),
            complimentary=row["complimentary"],
        )
        for row in rows
    ]
    sales.sort(key=lambda sale: sale.order_id)
    return tuple(sales)
