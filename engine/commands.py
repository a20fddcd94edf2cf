"""The commands the inventory of one event accepts: imperative, frozen, one tagged union.

Fields named `new_*` carry ids the shell minted for the thing the command creates; they are left
out of the idempotency fingerprint, so a retry with a fresh id still matches its first attempt.
Messages are `gc=False`: they never form reference cycles, so the cycle collector skips them. Add a
command here, to `Command`, and to the `match` in `engine.inventory.decide`.
"""

import enum
from typing import TypeAlias

import msgspec

from engine.ids import (
    CodeId,
    FanId,
    HoldId,
    IdempotencyKey,
    OrderId,
    SeatId,
    TicketTypeId,
    WaitListEntryId,
)
from engine.inventory.codes import CodeDefinition
from engine.price_phases import PricePhase


class Withholding(enum.StrEnum):
    """Why a venue keeps inventory off sale: a kill, or an allocation set aside for someone."""

    KILL = "kill"
    COMPS = "comps"
    PRESS = "press"
    ARTISTS = "artists"


class ItemRequest(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    ticket_type_id: TicketTypeId
    quantity: int


class PlaceHold(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Hold general-admission quantities."""

    new_hold_id: HoldId
    fan_id: FanId
    items: tuple[ItemRequest, ...]
    idempotency_key: IdempotencyKey | None = None
    code: str | None = None


class HoldSeats(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Hold named seats, all or nothing."""

    new_hold_id: HoldId
    fan_id: FanId
    seats: tuple[SeatId, ...]
    idempotency_key: IdempotencyKey | None = None
    code: str | None = None


class HoldBestAvailable(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """The best seats that fit; accessible and companion seats only when `accessible` asks for
    them (then first), or once the event releases them to general sale."""

    new_hold_id: HoldId
    fan_id: FanId
    ticket_type_id: TicketTypeId
    quantity: int
    section: str | None = None
    contiguous: bool = True
    accessible: bool = False
    idempotency_key: IdempotencyKey | None = None
    code: str | None = None


class ReleaseHold(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    hold_id: HoldId
    fan_id: FanId
    idempotency_key: IdempotencyKey | None = None


class ExpireHolds(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Return every hold due at `now_ms`, and forget idempotency keys past their time to live."""


class ExtendHold(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Keep a hold through checkout's payment window (once per hold)."""

    hold_id: HoldId
    fan_id: FanId
    idempotency_key: IdempotencyKey | None = None


class ConvertHold(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Turn a paid hold into a sale."""

    hold_id: HoldId
    new_order_id: OrderId
    idempotency_key: IdempotencyKey | None = None


class RefundOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    order_id: OrderId
    idempotency_key: IdempotencyKey | None = None


class ReturnTickets(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Put some of a sold order's seats and general units back on sale (a partial refund)."""

    order_id: OrderId
    seats: tuple[SeatId, ...] = ()
    items: tuple[ItemRequest, ...] = ()
    idempotency_key: IdempotencyKey | None = None


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    order_id: OrderId
    idempotency_key: IdempotencyKey | None = None


class IssueComps(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Give a fan free tickets out of an allocation: named seats or general quantities."""

    new_order_id: OrderId
    fan_id: FanId
    allocation: Withholding
    seats: tuple[SeatId, ...] = ()
    items: tuple[ItemRequest, ...] = ()
    idempotency_key: IdempotencyKey | None = None


class BlockSeats(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    seats: tuple[SeatId, ...]
    withholding: Withholding
    idempotency_key: IdempotencyKey | None = None


class UnblockSeats(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    seats: tuple[SeatId, ...]
    idempotency_key: IdempotencyKey | None = None


class WithholdUnits(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Take general-admission quantity off sale (a kill or an allocation)."""

    ticket_type_id: TicketTypeId
    quantity: int
    withholding: Withholding
    idempotency_key: IdempotencyKey | None = None


class ReturnWithheldUnits(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Put withheld general-admission quantity back on sale; with no `withholding`, from any,
    kills first and then the allocations in `Withholding`'s order."""

    ticket_type_id: TicketTypeId
    quantity: int
    withholding: Withholding | None
    idempotency_key: IdempotencyKey | None = None


class AddCapacity(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Grow a general-admission type's capacity; a seated type's is its seats."""

    ticket_type_id: TicketTypeId
    quantity: int
    idempotency_key: IdempotencyKey | None = None


class ChangePrice(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Set the price of a type's holds from now on: holds and orders already made keep theirs,
    and the type's price phases, if any, end (one price for every unit after this)."""

    ticket_type_id: TicketTypeId
    price_cents: int
    idempotency_key: IdempotencyKey | None = None


class PauseSale(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    pass


class ResumeSale(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    pass


class CancelSale(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Cancel the event: every live hold is released and the sale never opens again. Cancelling
    a cancelled event changes nothing (the first reason stays)."""

    reason: str


class ChangeSaleSettings(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Change the sale's window, its holds' time to live or the per-fan limit (None for none);
    a field left UNSET stays as it is. A change applies to what comes after it: holds placed
    before keep their expiry, and a lowered limit refuses only the next hold that passes it."""

    opens_at_ms: int | msgspec.UnsetType = msgspec.UNSET
    closes_at_ms: int | msgspec.UnsetType = msgspec.UNSET
    hold_ttl_ms: int | msgspec.UnsetType = msgspec.UNSET
    max_tickets_per_user: int | msgspec.UnsetType | None = msgspec.UNSET
    wait_list_enabled: bool | msgspec.UnsetType = msgspec.UNSET
    offer_ttl_ms: int | msgspec.UnsetType = msgspec.UNSET
    accessible_release_at_ms: int | msgspec.UnsetType | None = msgspec.UNSET


class JoinWaitList(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Put the fan on the event's wait list, or answer the entry the fan already has (joining is
    idempotent by itself: one entry per fan). `email` is where an offer is announced."""

    new_entry_id: WaitListEntryId
    fan_id: FanId
    quantity: int
    ticket_type_id: TicketTypeId | None = None
    email: str | None = None


class LeaveWaitList(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Take the fan's entry off the list; an offer it holds is released and passes on."""

    entry_id: WaitListEntryId
    fan_id: FanId


class TicketTypeSalePatch(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """New sale settings of one ticket type; a field left UNSET stays as it is, a bound set to None
    follows the event's window, and empty `price_phases` drop the phases (the type keeps the price
    it shows)."""

    ticket_type_id: TicketTypeId
    on_sale_from_ms: int | msgspec.UnsetType | None = msgspec.UNSET
    on_sale_until_ms: int | msgspec.UnsetType | None = msgspec.UNSET
    price_phases: tuple[PricePhase, ...] | msgspec.UnsetType = msgspec.UNSET


class ChangeTicketTypeSales(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Change the window and price phases of ticket types none of which is sold or held yet."""

    patches: tuple[TicketTypeSalePatch, ...]


class AddCodes(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Add codes to the event, all or none: one code, or a generated batch. The codes (their ids
    and generated texts) are minted by the shell, so a retry under the same key answers the codes
    of its first attempt."""

    new_codes: tuple[CodeDefinition, ...]
    idempotency_key: IdempotencyKey | None = None


class ChangeCode(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Turn a code on or off; off stops new uses at once, holds placed with it keep theirs."""

    code_id: CodeId
    active: bool


Command: TypeAlias = (
    PlaceHold
    | HoldSeats
    | HoldBestAvailable
    | ReleaseHold
    | ExpireHolds
    | ExtendHold
    | ConvertHold
    | RefundOrder
    | ReturnTickets
    | CancelOrder
    | IssueComps
    | BlockSeats
    | UnblockSeats
    | WithholdUnits
    | ReturnWithheldUnits
    | AddCapacity
    | ChangePrice
    | PauseSale
    | ResumeSale
    | CancelSale
    | ChangeSaleSettings
    | ChangeTicketTypeSales
    | JoinWaitList
    | LeaveWaitList
    | AddCodes
    | ChangeCode
)

MINTED_FIELD_PREFIX = "new_"


def fingerprint(command: Command) -> bytes:
    """The bytes two attempts of one request share: every field but minted ids and the key."""
    command_type = type(command)
    fields = _FINGERPRINT_FIELDS.get(command_type)
    if fields is None:
        fields = tuple(
            name
            for name in command_type.__struct_fields__
            if not name.startswith(MINTED_FIELD_PREFIX) and name != "idempotency_key"
        )
        _FINGERPRINT_FIELDS[command_type] = fields
    return _ENCODER.encode((command_type.__name__, *(getattr(command, name) for name in fields)))


_FINGERPRINT_FIELDS: dict[type, tuple[str, ...]] = {}
_ENCODER = msgspec.json.Encoder()
