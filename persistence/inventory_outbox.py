"""Which of an inventory's changes leave through the outbox, under which topic, ordered within
which aggregate, and the message they carry there.

A new change kind gets its topic here (None when no other part reacts to it); the table is
asserted to cover every change at import.
"""

import typing
import uuid

import msgspec

from engine.changes import (
    CapacityAdded,
    Change,
    CodeActiveChanged,
    CodesAdded,
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
    SaleCancelled,
    SalePaused,
    SaleResumed,
    SaleSettingsChanged,
    SeatsBlocked,
    SeatsUnblocked,
    TicketsReturned,
    TicketTypeSaleChanged,
    UnitsWithheld,
    WaitListJoined,
    WaitListLeft,
    WaitListOfferConverted,
    WaitListOffered,
    WaitListOffersExpired,
    WithheldUnitsReturned,
)

SALE_CANCELLED_TOPIC = "sale.cancelled"

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
    # A partial refund is announced by its refund's own notice and venue webhook.
    TicketsReturned: None,
    CompsIssued: "comps.issued",
    SeatsBlocked: None,
    SeatsUnblocked: None,
    UnitsWithheld: None,
    WithheldUnitsReturned: None,
    CapacityAdded: None,
    SalePaused: "sale.paused",
    SaleResumed: "sale.resumed",
    # Starts the refunds of the cancelled event's paid orders (services.cancellation_refunds).
    SaleCancelled: SALE_CANCELLED_TOPIC,
    SaleSettingsChanged: None,
    TicketTypeSaleChanged: None,
    IdempotencyKeyRecorded: None,
    IdempotencyKeysForgotten: None,
    # An offer is announced to its fan by a notice the commit writes (persistence.wait_list_writes).
    WaitListJoined: None,
    WaitListLeft: None,
    WaitListOffered: None,
    WaitListOffersExpired: None,
    WaitListOfferConverted: None,
    CodesAdded: None,
    CodeActiveChanged: None,
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


def outbox_row(change: Change, event_id: uuid.UUID, now_ms: int) -> tuple[str, str, str] | None:
    """The change's outbox row (topic, aggregate, payload), or None when it has no topic."""
    topic = OUTBOX_TOPICS[type(change)]
    if topic is None:
        return None
    message = InventoryChangeMessage(event_id=event_id, recorded_at_ms=now_ms, change=change)
    payload = OUTBOX_ENCODER.encode(message).decode()
    return (topic, outbox_aggregate(change, event_id), payload)
