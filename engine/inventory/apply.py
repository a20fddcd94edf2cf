"""`apply(inventory, change)`: the only code that changes an inventory, one recorded change at a
time; `execute` decides one command and applies its changes, the shell's single call per command.

A new kind of change gets its case here; `assert_never` keeps the match exhaustive.
"""

from typing import assert_never

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
from engine.commands import Command
from engine.inventory.decide import decide
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory
from engine.rejections import Rejected


def execute(inventory: Inventory, command: Command, now_ms: int) -> Decision | Rejected:
    """Decide one command and apply its changes: the shell's single call per command."""
    decision = decide(inventory, command, now_ms)
    if isinstance(decision, Decision):
        for change in decision.changes:
            apply(inventory, change)
    return decision


def apply(inventory: Inventory, change: Change) -> None:
    match change:
        case HoldPlaced(hold=hold):
            inventory.add_hold(hold)
        case IdempotencyKeyRecorded(record=record):
            assert record.key not in inventory.idempotency_records
            inventory.idempotency_records[record.key] = record
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
        case OrderRefunded(order_id=order_id) | OrderCancelled(order_id=order_id):
            inventory.remove_sale(inventory.sales[order_id])
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
        case SalePaused():
            inventory.paused = True
        case SaleResumed():
            inventory.paused = False
        case SaleSettingsChanged():
            inventory.configuration = msgspec.structs.replace(
                inventory.configuration,
                opens_at_ms=change.opens_at_ms,
                closes_at_ms=change.closes_at_ms,
                hold_ttl_ms=change.hold_ttl_ms,
                max_tickets_per_user=change.max_tickets_per_user,
            )
        case IdempotencyKeysForgotten(keys=keys):
            for key in keys:
                del inventory.idempotency_records[key]
        case _:
            assert_never(change)
