"""`apply(inventory, change)`: the only code that changes an inventory, one recorded change at a
time; `execute` decides one command and applies its changes, then the wait list's (the offers
that end with their holds, and the offers of stock that came back), the shell's single call per
command: an offer is made in the same decision as the change that freed its stock, so nothing
decided after it (a general hold of the same batch) can take that stock first.

A new kind of change gets its case here, in `apply` or in the function of its family;
`assert_never` keeps each match exhaustive.
"""

from typing import TypeAlias, assert_never

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
from engine.commands import Command
from engine.holds import sale_after_return
from engine.inventory.decide import decide
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory
from engine.inventory.wait_list import WaitListStatus
from engine.inventory.wait_list_decisions import (
    can_offer,
    decide_offer,
    ended_offers,
    entry_view,
    returns_stock,
)
from engine.outcomes import WaitListEntryView
from engine.rejections import Rejected


def execute(inventory: Inventory, command: Command, now_ms: int) -> Decision | Rejected:
    """Decide one command and apply its changes, with the wait list's that follow from them, in
    one decision: the shell's single call per command. A join answers its entry as the decision
    leaves it (offered at once when stock is there)."""
    decision = decide(inventory, command, now_ms)
    if isinstance(decision, Rejected):
        return decision
    for change in decision.changes:
        apply(inventory, change)
    follow_ups = _settle_wait_list(inventory, decision.changes, now_ms)
    if not follow_ups:
        return decision
    outcome = decision.outcome
    if isinstance(outcome, WaitListEntryView):
        outcome = entry_view(inventory, inventory.wait_list.entries[outcome.entry_id])
    return Decision(outcome=outcome, changes=(*decision.changes, *follow_ups))


def _settle_wait_list(
    inventory: Inventory, changes: tuple[Change, ...], now_ms: int
) -> list[Change]:
    """End the offers whose holds the changes ended, then offer what came back, in join order;
    an event nobody has joined the wait list of pays one check per command."""
    wait_list = inventory.wait_list
    if not wait_list.entries:
        return []
    follow_ups = list(ended_offers(inventory, changes))
    for change in follow_ups:
        apply(inventory, change)
    if not (wait_list.waiting and returns_stock(changes) and can_offer(inventory, now_ms)):
        return follow_ups
    for entry_id in list(wait_list.waiting):
        offer = decide_offer(inventory, wait_list.entries[entry_id], now_ms)
        for change in offer:
            apply(inventory, change)
        follow_ups.extend(offer)
        if offer and not can_offer(inventory, now_ms):
            break
    return follow_ups


HoldChange: TypeAlias = HoldPlaced | HoldReleased | HoldsExpired | HoldExtended | HoldConverted
WithholdingChange: TypeAlias = (
    CompsIssued
    | SeatsBlocked
    | SeatsUnblocked
    | UnitsWithheld
    | WithheldUnitsReturned
    | CapacityAdded
)
SaleSettingChange: TypeAlias = (
    SalePaused | SaleResumed | SaleCancelled | SaleSettingsChanged | TicketTypeSaleChanged
)
WaitListChange: TypeAlias = (
    WaitListJoined | WaitListLeft | WaitListOffered | WaitListOffersExpired | WaitListOfferConverted
)


def apply(inventory: Inventory, change: Change) -> None:
    """Apply one change; each family of changes has its own function below."""
    match change:
        case HoldPlaced() | HoldReleased() | HoldsExpired() | HoldExtended() | HoldConverted():
            _apply_hold_change(inventory, change)
        case OrderRefunded(order_id=order_id) | OrderCancelled(order_id=order_id):
            inventory.remove_sale(inventory.sales[order_id])
        case TicketsReturned(order_id=order_id, seats=seats, items=items):
            sale = inventory.sales[order_id]
            inventory.remove_sale(sale)
            inventory.add_sale(sale_after_return(sale, seats, items))
        case (
            CompsIssued()
            | SeatsBlocked()
            | SeatsUnblocked()
            | UnitsWithheld()
            | WithheldUnitsReturned()
            | CapacityAdded()
        ):
            _apply_withholding_change(inventory, change)
        case (
            SalePaused()
            | SaleResumed()
            | SaleCancelled()
            | SaleSettingsChanged()
            | TicketTypeSaleChanged()
        ):
            _apply_sale_setting_change(inventory, change)
        case IdempotencyKeyRecorded(record=record):
            assert record.key not in inventory.idempotency_records
            inventory.idempotency_records[record.key] = record
        case IdempotencyKeysForgotten(keys=keys):
            for key in keys:
                del inventory.idempotency_records[key]
        case (
            WaitListJoined()
            | WaitListLeft()
            | WaitListOffered()
            | WaitListOffersExpired()
            | WaitListOfferConverted()
        ):
            _apply_wait_list_change(inventory, change)
        case CodesAdded(codes=codes):
            for code in codes:
                inventory.add_code(code)
        case CodeActiveChanged(code_id=code_id, active=active):
            inventory.codes[code_id] = msgspec.structs.replace(
                inventory.codes[code_id], active=active
            )
        case _:
            assert_never(change)


def _apply_hold_change(inventory: Inventory, change: HoldChange) -> None:
    match change:
        case HoldPlaced(hold=hold):
            inventory.add_hold(hold)
        case HoldReleased(hold_id=hold_id):
            inventory.remove_hold(inventory.holds[hold_id])
        case HoldsExpired(hold_ids=hold_ids):
            for hold_id in hold_ids:
                inventory.remove_hold(inventory.holds[hold_id])
        case HoldExtended(hold_id=hold_id, expires_at_ms=expires_at_ms):
            hold = inventory.holds[hold_id]
            inventory.expiry.remove(hold)
            extended = msgspec.structs.replace(
                hold, expires_at_ms=expires_at_ms, extensions=hold.extensions + 1
            )
            inventory.holds[hold_id] = extended
            inventory.expiry.add(extended)
        case HoldConverted(hold_id=hold_id, sale=sale):
            hold = inventory.holds[hold_id]
            assert (hold.items, hold.seats, hold.fan_id) == (sale.items, sale.seats, sale.fan_id)
            inventory.remove_hold(hold)
            inventory.add_sale(sale)
        case _:
            assert_never(change)


def _apply_withholding_change(inventory: Inventory, change: WithholdingChange) -> None:
    """Seats and units set aside, given back, or given away as comps (from what was set aside), and
    general capacity added."""
    match change:
        case CompsIssued(sale=sale, allocation=allocation):
            if sale.seats:
                inventory.unblock_seats(sale.seats)
            else:
                for item in sale.items:
                    inventory.return_withheld_units(item.ticket_type_id, item.quantity, allocation)
            inventory.add_sale(sale)
        case SeatsBlocked(seats=seats, withholding=withholding):
            inventory.block_seats(seats, withholding)
        case SeatsUnblocked(seats=seats):
            inventory.unblock_seats(seats)
        case UnitsWithheld(
            ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
        ):
            inventory.withhold_units(ticket_type_id, quantity, withholding)
        case WithheldUnitsReturned(
            ticket_type_id=ticket_type_id, quantity=quantity, withholding=withholding
        ):
            inventory.return_withheld_units(ticket_type_id, quantity, withholding)
        case CapacityAdded(ticket_type_id=ticket_type_id, quantity=quantity):
            inventory.add_capacity(ticket_type_id, quantity)
        case _:
            assert_never(change)


def _apply_sale_setting_change(inventory: Inventory, change: SaleSettingChange) -> None:
    match change:
        case SalePaused():
            inventory.paused = True
        case SaleResumed():
            inventory.paused = False
        case SaleCancelled():
            assert not inventory.cancelled
            assert not inventory.holds, "a cancellation releases every hold first"
            inventory.cancelled = True
        case SaleSettingsChanged():
            inventory.configuration = msgspec.structs.replace(
                inventory.configuration,
                opens_at_ms=change.opens_at_ms,
                closes_at_ms=change.closes_at_ms,
                hold_ttl_ms=change.hold_ttl_ms,
                max_tickets_per_user=change.max_tickets_per_user,
                wait_list_enabled=change.wait_list_enabled,
                offer_ttl_ms=change.offer_ttl_ms,
                accessible_release_at_ms=change.accessible_release_at_ms,
            )
        case TicketTypeSaleChanged():
            inventory.replace_ticket_type(
                msgspec.structs.replace(
                    inventory.ticket_types[change.ticket_type_id],
                    price_cents=change.price_cents,
                    on_sale_from_ms=change.on_sale_from_ms,
                    on_sale_until_ms=change.on_sale_until_ms,
                    price_phases=change.price_phases,
                )
            )
        case _:
            assert_never(change)


def _apply_wait_list_change(inventory: Inventory, change: WaitListChange) -> None:
    match change:
        case WaitListJoined(entry=entry):
            inventory.wait_list.add(entry)
        case WaitListLeft(entry_id=entry_id):
            inventory.wait_list.move(entry_id, WaitListStatus.LEFT)
        case WaitListOffered(entry_id=entry_id, hold_id=hold_id):
            assert inventory.holds[hold_id].fan_id == inventory.wait_list.entries[entry_id].fan_id
            inventory.wait_list.move(
                entry_id,
                WaitListStatus.OFFERED,
                hold_id=hold_id,
                offer_expires_at_ms=change.offer_expires_at_ms,
            )
        case WaitListOffersExpired(entry_ids=entry_ids):
            for entry_id in entry_ids:
                inventory.wait_list.move(entry_id, WaitListStatus.EXPIRED)
        case WaitListOfferConverted(entry_id=entry_id):
            inventory.wait_list.move(entry_id, WaitListStatus.CONVERTED)
        case _:
            assert_never(change)
