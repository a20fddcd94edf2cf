"""Everything persistence keeps of one event's inventory, in the canonical order that
`Inventory.rows()` writes and `Inventory.rebuild(rows)` reads back into an equal inventory."""

import msgspec

from engine.commands import Withholding
from engine.holds import Hold, Sale
from engine.ids import SeatId, TicketTypeId
from engine.inventory.codes import CodeDefinition
from engine.inventory.configuration import InventoryConfiguration
from engine.inventory.wait_list import WaitListEntry
from engine.outcomes import IdempotencyRecord
from engine.seat_map import SeatState


class SeatRow(msgspec.Struct, frozen=True, kw_only=True):
    """A seat that is not available; a seat with no row is available."""

    seat_id: SeatId
    state: SeatState


class WithheldUnitsRow(msgspec.Struct, frozen=True, kw_only=True):
    ticket_type_id: TicketTypeId
    withholding: Withholding
    quantity: int


class InventoryRows(msgspec.Struct, frozen=True, kw_only=True):
    """Everything persistence keeps of one event's inventory, in a canonical order.

    Seats list only seats that are not available; holds and sales are sorted by id; idempotency
    records come in the order they were recorded (expiry forgets the oldest first); wait-list
    entries in join order; codes sorted by id.
    """

    configuration: InventoryConfiguration
    paused: bool
    seats: tuple[SeatRow, ...]
    withheld_units: tuple[WithheldUnitsRow, ...]
    holds: tuple[Hold, ...]
    sales: tuple[Sale, ...]
    idempotency_records: tuple[IdempotencyRecord, ...]
    wait_list: tuple[WaitListEntry, ...] = ()
    codes: tuple[CodeDefinition, ...] = ()
    cancelled: bool = False
