"""Decisions on the wait list: a fan joining or leaving it, and the offer rule, the wait list's
claim on stock that comes back.

The rule: whenever a decision returns stock (a hold released or expired, an order refunded or
cancelled, seats unblocked, withheld units returned, the sale resumed or its settings changed) or
adds an entry, the waiting entries are offered what is available, in join order, before anything
else can take it. An entry is offered its quantity of its ticket type (of the first type, in
configuration order, with enough, when it named none) as a hold of its fan that lasts the offer's
time to live; an entry that does not fit, or that the per-fan limit would refuse, keeps waiting
and the next one is tried. An offer's hold ending ends the offer: bought (converted) or not
(expired: the hold expired, or was released by its fan, a failed payment or an order that ran
out of time); only leaving the list makes an entry `left`. Each function reads the inventory and
changes nothing; engine.inventory.apply.execute applies them in that order.
"""

from collections.abc import Iterable

from engine import limits
from engine.changes import (
    Change,
    HoldConverted,
    HoldPlaced,
    HoldReleased,
    HoldsExpired,
    OrderCancelled,
    OrderRefunded,
    SaleResumed,
    SaleSettingsChanged,
    SeatsUnblocked,
    TicketsReturned,
    WaitListJoined,
    WaitListLeft,
    WaitListOfferConverted,
    WaitListOffered,
    WaitListOffersExpired,
    WithheldUnitsReturned,
)
from engine.commands import JoinWaitList, LeaveWaitList
from engine.holds import Hold
from engine.ids import TicketTypeId
from engine.inventory.configuration import TicketKind
from engine.inventory.decision import (
    Decision,
    is_ticket_type_on_sale,
    priced_items,
    reject,
    seat_items,
)
from engine.inventory.state import Inventory
from engine.inventory.wait_list import WaitListEntry, WaitListStatus, offer_hold_id
from engine.outcomes import Acknowledged, WaitListEntryView
from engine.rejections import Reason, Rejected

STOCK_RETURNING_CHANGES = (
    HoldReleased,
    HoldsExpired,
    OrderRefunded,
    TicketsReturned,
    OrderCancelled,
    SeatsUnblocked,
    WithheldUnitsReturned,
    SaleResumed,
    SaleSettingsChanged,
    WaitListJoined,
)
ENDED_OFFER_STATUSES = (WaitListStatus.CONVERTED, WaitListStatus.EXPIRED, WaitListStatus.LEFT)


def entry_view(inventory: Inventory, entry: WaitListEntry) -> WaitListEntryView:
    return WaitListEntryView.of(entry, inventory.wait_list.position(entry.entry_id))


def decide_join_wait_list(inventory: Inventory, command: JoinWaitList) -> Decision | Rejected:
    wait_list = inventory.wait_list
    existing = wait_list.entry_of_fan_id(command.fan_id)
    if existing is not None:
        return Decision(outcome=entry_view(inventory, existing), changes=())
    if not 1 <= command.quantity <= limits.WAIT_LIST_QUANTITY_MAX:
        return reject(
            Reason.VALIDATION_ERROR,
            f"quantity must be between 1 and {limits.WAIT_LIST_QUANTITY_MAX}",
            field="quantity",
        )
    wanted = inventory.ticket_types.get(command.ticket_type_id or "")
    if command.ticket_type_id is not None and (wanted is None or wanted.hidden):
        # A hidden type is sold only with a code that unlocks it, never offered from the list.
        return reject(
            Reason.VALIDATION_ERROR,
            "not a ticket type of this event",
            ticket_type_id=command.ticket_type_id,
        )
    if command.new_entry_id in wait_list.entries:
        return reject(Reason.VALIDATION_ERROR, "this entry id is already in use")
    if not inventory.configuration.wait_list_enabled:
        return reject(Reason.WAIT_LIST_CLOSED, "this event has no wait list open")
    if len(wait_list) >= limits.WAIT_LIST_ENTRIES_PER_EVENT_MAX:
        return reject(Reason.WAIT_LIST_CLOSED, "the wait list is full")
    limit = inventory.configuration.max_tickets_per_user
    if limit is not None and command.quantity > limit:
        return reject(
            Reason.LIMIT_EXCEEDED, f"at most {limit} tickets per fan for this event", limit=limit
        )
    entry = WaitListEntry(
        entry_id=command.new_entry_id,
        fan_id=command.fan_id,
        email=command.email,
        quantity=command.quantity,
        ticket_type_id=command.ticket_type_id,
        sequence=wait_list.next_sequence,
    )
    view = WaitListEntryView.of(entry, len(wait_list.waiting))
    return Decision(outcome=view, changes=(WaitListJoined(entry=entry),))


def decide_leave_wait_list(inventory: Inventory, command: LeaveWaitList) -> Decision | Rejected:
    entry = inventory.wait_list.entries.get(command.entry_id)
    if entry is None or entry.fan_id != command.fan_id:
        return reject(Reason.NOT_FOUND, "no such wait-list entry")
    match entry.status:
        case WaitListStatus.WAITING:
            changes: tuple[Change, ...] = (WaitListLeft(entry_id=entry.entry_id),)
        case WaitListStatus.OFFERED:
            assert entry.hold_id is not None and entry.hold_id in inventory.holds, entry.entry_id
            changes = (WaitListLeft(entry_id=entry.entry_id), HoldReleased(hold_id=entry.hold_id))
        case _:
            assert entry.status in ENDED_OFFER_STATUSES, entry.status
            changes = ()
    return Decision(outcome=Acknowledged(), changes=changes)


def returns_stock(changes: Iterable[Change]) -> bool:
    return any(isinstance(change, STOCK_RETURNING_CHANGES) for change in changes)


def ended_offers(inventory: Inventory, changes: Iterable[Change]) -> tuple[Change, ...]:
    """The offers whose holds the applied `changes` ended: converted when sold, else expired."""
    offer_entries = inventory.wait_list.entry_of_offer_hold
    ended: list[Change] = []
    for change in changes:
        match change:
            case HoldsExpired(hold_ids=hold_ids):
                expired = tuple(
                    offer_entries[hold_id] for hold_id in hold_ids if hold_id in offer_entries
                )
                if expired:
                    ended.append(WaitListOffersExpired(entry_ids=expired))
            case HoldReleased(hold_id=hold_id) if hold_id in offer_entries:
                ended.append(WaitListOffersExpired(entry_ids=(offer_entries[hold_id],)))
            case HoldConverted(hold_id=hold_id) if hold_id in offer_entries:
                ended.append(WaitListOfferConverted(entry_id=offer_entries[hold_id]))
            case _:
                pass
    return tuple(ended)


def can_offer(inventory: Inventory, now_ms: int) -> bool:
    """Whether offers are made at all now: the list is enabled, the sale open, stock available."""
    return (
        inventory.configuration.wait_list_enabled
        and inventory.is_on_sale(now_ms)
        and any(counts.available for counts in inventory.counts.values())
    )


def decide_offer(inventory: Inventory, entry: WaitListEntry, now_ms: int) -> tuple[Change, ...]:
    """The offer a waiting entry gets now, or nothing when it does not fit."""
    assert entry.status is WaitListStatus.WAITING, entry.entry_id
    limit = inventory.configuration.max_tickets_per_user
    if limit is not None and inventory.tickets_of_fan(entry.fan_id) + entry.quantity > limit:
        return ()
    candidates: Iterable[TicketTypeId] = (
        (entry.ticket_type_id,) if entry.ticket_type_id is not None else inventory.ticket_types
    )
    for ticket_type_id in candidates:
        hold = _offer_hold(inventory, entry, ticket_type_id, now_ms)
        if hold is not None:
            offered = WaitListOffered(
                entry_id=entry.entry_id,
                hold_id=hold.hold_id,
                offer_expires_at_ms=hold.expires_at_ms,
            )
            return (HoldPlaced(hold=hold), offered)
    return ()


def _offer_hold(
    inventory: Inventory, entry: WaitListEntry, ticket_type_id: TicketTypeId, now_ms: int
) -> Hold | None:
    ticket_type = inventory.ticket_types[ticket_type_id]
    if ticket_type.hidden or inventory.counts[ticket_type_id].available < entry.quantity:
        return None
    if not is_ticket_type_on_sale(inventory, ticket_type_id, now_ms):
        return None
    if ticket_type.kind is TicketKind.GENERAL:
        items = priced_items(inventory, ticket_type_id, entry.quantity, now_ms)
        seats: tuple[str, ...] = ()
    else:
        seat_indexes = inventory.seat_states.find_best_seats(
            inventory.seat_map.rows_of_ticket_type(ticket_type_id), entry.quantity, False
        )
        if seat_indexes is None:
            return None
        items = seat_items(inventory, seat_indexes, now_ms)
        seats = inventory.seat_map.labels(seat_indexes)
    hold_id = offer_hold_id(entry.entry_id)
    assert hold_id not in inventory.holds, entry.entry_id
    return Hold(
        hold_id=hold_id,
        fan_id=entry.fan_id,
        items=items,
        seats=seats,
        expires_at_ms=now_ms + inventory.configuration.offer_ttl_ms,
    )
