"""The invariants the seeded simulation checks after each step, beyond the inventory's own recount.

Each check is an `assert`, so a broken invariant stops the run at the step that broke it. A new
kind of change that places or returns stock gets its check here.
"""

import msgspec

from engine.changes import HoldPlaced
from engine.commands import Command, ExpireHolds
from engine.holds import Hold
from engine.inventory.codes import discounted
from engine.inventory.decision import Decision
from engine.inventory.rows import InventoryRows
from engine.inventory.state import Inventory
from engine.inventory.wait_list_decisions import can_offer, decide_offer, returns_stock
from engine.rejections import Rejected
from engine.sale_windows import is_within_window

ROWS_DECODER = msgspec.json.Decoder(InventoryRows)


def check_step(
    inventory: Inventory, command: Command, result: Decision | Rejected, now_ms: int
) -> None:
    """The inventory recounts; no waiting entry is left that returned stock could serve; every
    new hold is priced and timed right; an expiry leaves no overdue hold."""
    inventory.assert_consistent()
    if (
        isinstance(result, Decision)
        and returns_stock(result.changes)
        and can_offer(inventory, now_ms)
    ):
        wait_list = inventory.wait_list
        for entry_id in wait_list.waiting:
            offer = decide_offer(inventory, wait_list.entries[entry_id], now_ms)
            assert offer == (), f"entry {entry_id} waits while stock fits it"
    for change in result.changes if isinstance(result, Decision) else ():
        if isinstance(change, HoldPlaced):
            check_placed_hold(inventory, change.hold, now_ms)
    if isinstance(command, ExpireHolds):
        overdue = [h for h in inventory.holds.values() if h.expires_at_ms <= now_ms]
        assert not overdue, f"holds past expiry still live: {overdue}"


def check_placed_hold(inventory: Inventory, hold: Hold, now_ms: int) -> None:
    """A new hold (a fan's or a wait-list offer) has only types on sale now, each unit priced
    by a phase of its type less the hold's code's discount, and each price of a type carried
    once."""
    hold_id = hold.hold_id
    code = None if hold.code_id is None else inventory.codes[hold.code_id]
    for item in hold.items:
        ticket_type = inventory.ticket_types[item.ticket_type_id]
        assert is_within_window(
            ticket_type.on_sale_from_ms, ticket_type.on_sale_until_ms, now_ms
        ), f"hold {hold_id} placed outside the window of {item.ticket_type_id}"
        prices = {phase.price_cents for phase in ticket_type.price_phases} or {
            ticket_type.price_cents
        }
        discounted_prices = {discounted(price, code, item.ticket_type_id) for price in prices}
        assert item.unit_price_cents in discounted_prices, f"hold {hold_id}: a price of no phase"
    pairs = [(item.ticket_type_id, item.unit_price_cents) for item in hold.items]
    assert len(pairs) == len(set(pairs)), f"hold {hold_id}: one type at one price twice"


def check_rebuild(inventory: Inventory) -> None:
    """The inventory's rows, through a JSON round trip, rebuild an equal inventory."""
    encoded = msgspec.json.encode(inventory.rows())
    rebuilt = Inventory.rebuild(ROWS_DECODER.decode(encoded))
    rebuilt.assert_consistent()
    assert rebuilt == inventory, "the rebuilt inventory differs"
