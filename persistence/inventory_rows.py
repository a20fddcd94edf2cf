"""The rows one batch of an inventory's changes writes, worked out with no I/O: from the batch's net
effect (persistence.inventory_batch) to the arrays each statement of persistence.inventory_writes
takes, in the order of its parameters.

Pure (no asyncpg), so the fold is tested without Postgres; a new column goes here and into its
statement together.
"""

import dataclasses
import typing
import uuid
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import msgspec

from engine.changes import Change
from engine.holds import HoldItem
from engine.ids import HoldId, OrderId, SeatId, TicketTypeId
from engine.pricing import price_order
from persistence.inventory_batch import (
    ACTIVE,
    LIVE,
    BatchEffect,
    net_effect,
    referenced_ids,
)

OUTCOME_ENCODER = msgspec.msgpack.Encoder()


class ChangedHolds(NamedTuple):
    """Holds that existed before the batch and changed in it."""

    hold_ids: list[HoldId]
    statuses: list[str]
    expires_at_ms: list[int]
    extensions: list[int]


class EndedSales(NamedTuple):
    """Sales that were live before the batch and ended in it."""

    order_ids: list[OrderId]
    statuses: list[str]


class NewHoldSeats(NamedTuple):
    """The seat claims of the batch's new holds, each hold's seats in their order."""

    hold_ids: list[HoldId]
    labels: list[SeatId]
    positions: list[int]
    live: list[bool]


class NewSales(NamedTuple):
    order_ids: list[OrderId]
    fan_ids: list[str]
    hold_ids: list[HoldId | None]
    allocations: list[str | None]
    seat_labels: list[str]
    subtotals_cents: list[int]
    fees_cents: list[int]
    totals_cents: list[int]
    statuses: list[str]


class SaleItems(NamedTuple):
    order_ids: list[str]
    ticket_type_ids: list[str]
    positions: list[int]
    quantities: list[int]
    unit_prices_cents: list[int]


class SeatMoves(NamedTuple):
    """Each seat the batch moves: the state it must be in, and the state it is left in."""

    labels: list[SeatId]
    before: list[str]
    after: list[str]


class WithheldDeltas(NamedTuple):
    ticket_type_ids: list[TicketTypeId]
    withholdings: list[str]
    deltas: list[int]


class OutboxRows(NamedTuple):
    topics: list[str]
    aggregate_ids: list[str]
    payloads: list[str]


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
        main_columns=main_columns(effect),
    )


def changed_holds(effect: BatchEffect) -> ChangedHolds:
    touched_holds = [draft for draft in effect.holds.values() if not draft.is_new]
    return ChangedHolds(
        hold_ids=[draft.hold.hold_id for draft in touched_holds],
        statuses=[draft.status for draft in touched_holds],
        expires_at_ms=[draft.hold.expires_at_ms for draft in touched_holds],
        extensions=[draft.hold.extensions for draft in touched_holds],
    )


def ended_sales(effect: BatchEffect) -> EndedSales:
    ended = [draft for draft in effect.sales.values() if not draft.is_new and draft.status != LIVE]
    return EndedSales(
        order_ids=[draft.sale.order_id for draft in ended],
        statuses=[draft.status for draft in ended],
    )


def holds_of_sales_ended_at_once(effect: BatchEffect) -> list[HoldId]:
    """Holds from before the batch whose sale the batch both made and ended (a sale refunded in
    the batch that sold it): their seat claims end with it."""
    return [
        draft.hold_id
        for draft in effect.sales.values()
        if draft.is_new
        and draft.status != LIVE
        and draft.hold_id is not None
        and not effect.holds[draft.hold_id].is_new
    ]


def _holds_of_live_sales(effect: BatchEffect) -> set[HoldId]:
    return {
        draft.hold_id
        for draft in effect.sales.values()
        if draft.status == LIVE and draft.hold_id is not None
    }


def main_columns(effect: BatchEffect) -> list[list[typing.Any]] | None:
    """The arrays of INSERT_HOLDS_COUNTS_AND_RECORDS from $4 on; None when it has nothing to do."""
    new_holds = [draft for draft in effect.holds.values() if draft.is_new]
    ticket_type_ids, held, sold = count_deltas(effect)
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
        *hold_item_columns(draft.hold.items for draft in new_holds),
        ticket_type_ids,
        held,
        sold,
        [record.key for record in records],
        [record.fingerprint for record in records],
        [OUTCOME_ENCODER.encode(record.outcome) for record in records],
        [record.recorded_at_ms for record in records],
        [draft.hold.code_id for draft in new_holds],
    ]


def new_hold_seats(effect: BatchEffect) -> NewHoldSeats:
    """A hold's seat claims live while it is active, or while the sale it became is live."""
    converted_to_live_sales = _holds_of_live_sales(effect)
    claims = NewHoldSeats(hold_ids=[], labels=[], positions=[], live=[])
    for draft in effect.holds.values():
        if not draft.is_new:
            continue
        live = draft.status == ACTIVE or draft.hold.hold_id in converted_to_live_sales
        for position, seat_id in enumerate(draft.hold.seats):
            claims.hold_ids.append(draft.hold.hold_id)
            claims.labels.append(seat_id)
            claims.positions.append(position)
            claims.live.append(live)
    return claims


def hold_item_columns(
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


def new_sales(effect: BatchEffect) -> NewSales:
    drafts = [draft for draft in effect.sales.values() if draft.is_new]
    prices = [draft.price or price_order(draft.sale.subtotal_cents) for draft in drafts]
    return NewSales(
        order_ids=[draft.sale.order_id for draft in drafts],
        fan_ids=[draft.sale.fan_id for draft in drafts],
        hold_ids=[draft.hold_id for draft in drafts],
        allocations=[draft.allocation.value if draft.allocation else None for draft in drafts],
        seat_labels=[" ".join(draft.sale.seats) for draft in drafts],
        subtotals_cents=[price.subtotal_cents for price in prices],
        fees_cents=[price.fees_cents for price in prices],
        totals_cents=[price.total_cents for price in prices],
        statuses=[draft.status for draft in drafts],
    )


def new_sale_items(effect: BatchEffect) -> SaleItems:
    """The items of the batch's new sales, each sale's items in their order."""
    items = SaleItems(
        order_ids=[], ticket_type_ids=[], positions=[], quantities=[], unit_prices_cents=[]
    )
    for draft in effect.sales.values():
        if not draft.is_new:
            continue
        for position, item in enumerate(draft.sale.items):
            items.order_ids.append(draft.sale.order_id)
            items.ticket_type_ids.append(item.ticket_type_id)
            items.positions.append(position)
            items.quantities.append(item.quantity)
            items.unit_prices_cents.append(item.unit_price_cents)
    return items


def seat_moves(effect: BatchEffect) -> SeatMoves:
    return SeatMoves(
        labels=list(effect.seats),
        before=[move.before for move in effect.seats.values()],
        after=[move.after for move in effect.seats.values()],
    )


def count_deltas(effect: BatchEffect) -> tuple[list[TicketTypeId], list[int], list[int]]:
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
        for ticket_type_id, quantity in sale_draft.returned.items():
            sold[ticket_type_id] = sold.get(ticket_type_id, 0) - quantity
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


def withheld_deltas(effect: BatchEffect) -> WithheldDeltas:
    """The withheld units the batch moves, by ticket type and withholding; none that net to 0."""
    withheld = [(key, delta) for key, delta in effect.withheld_deltas.items() if delta]
    return WithheldDeltas(
        ticket_type_ids=[ticket_type_id for (ticket_type_id, _), _ in withheld],
        withholdings=[withholding.value for (_, withholding), _ in withheld],
        deltas=[delta for _, delta in withheld],
    )


def outbox_rows(effect: BatchEffect) -> OutboxRows:
    return OutboxRows(
        topics=[topic for topic, _, _ in effect.outbox],
        aggregate_ids=[aggregate_id for _, aggregate_id, _ in effect.outbox],
        payloads=[payload for _, _, payload in effect.outbox],
    )
