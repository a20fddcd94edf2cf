"""Decisions on a fan's holds: place one (general, chosen seats, best available), release,
extend, convert into a sale, and expire the holds (and idempotency records) that ran out.

Each reads the inventory and returns a `Decision` or a `Rejected`; none changes anything.
"""

import itertools
from collections.abc import Sequence

import msgspec

from engine import limits
from engine.changes import (
    Change,
    HoldConverted,
    HoldExtended,
    HoldPlaced,
    HoldReleased,
    HoldsExpired,
    IdempotencyKeysForgotten,
)
from engine.commands import (
    ConvertHold,
    ExtendHold,
    HoldBestAvailable,
    HoldSeats,
    PlaceHold,
    ReleaseHold,
)
from engine.holds import Hold, Sale
from engine.ids import FanId, HoldId, TicketTypeId
from engine.inventory.accessible_seating import find_best_available
from engine.inventory.code_decisions import (
    code_exhausted,
    code_id_of,
    code_problem,
    opens_early_for,
)
from engine.inventory.codes import CodeDefinition
from engine.inventory.configuration import TicketKind
from engine.inventory.decision import (
    Decision,
    check_general_items,
    check_new_hold,
    check_ticket_types_on_sale,
    priced_items,
    reject,
    resolve_seats,
    seat_items,
    seat_quantities,
)
from engine.inventory.state import Inventory
from engine.outcomes import Acknowledged, ExpiryReport, HoldView, SaleView
from engine.pricing import price_order
from engine.rejections import Reason, Rejected
from engine.seat_map import SeatState


def _placed(hold: Hold) -> Decision:
    return Decision(outcome=HoldView.of(hold), changes=(HoldPlaced(hold=hold),))


def _hold_code(
    inventory: Inventory,
    text: str | None,
    hold_id: HoldId,
    fan_id: FanId,
    ticket_type_ids: Sequence[TicketTypeId],
    quantity: int,
    now_ms: int,
) -> CodeDefinition | Rejected | None:
    """The code of a new hold, checked with the hold's other checks (the sale open, or opened
    early by the code; the per-fan limit; the types' own windows) in the same decision."""
    code = code_problem(inventory, text, ticket_type_ids, now_ms)
    if isinstance(code, Rejected):
        return code
    early = opens_early_for(code, inventory, ticket_type_ids, now_ms)
    rejected = check_new_hold(inventory, hold_id, fan_id, quantity, now_ms, early=early)
    if rejected is None:
        rejected = check_ticket_types_on_sale(inventory, ticket_type_ids, now_ms)
    if rejected is None and code is not None:
        rejected = code_exhausted(inventory, code, fan_id)
    return rejected if rejected is not None else code


def decide_place_hold(inventory: Inventory, command: PlaceHold, now_ms: int) -> Decision | Rejected:
    rejected = check_general_items(inventory, command.items, limits.UNITS_PER_GENERAL_HOLD_MAX)
    if rejected is not None:
        return rejected
    code = _hold_code(
        inventory,
        command.code,
        command.new_hold_id,
        command.fan_id,
        [item.ticket_type_id for item in command.items],
        sum(item.quantity for item in command.items),
        now_ms,
    )
    if isinstance(code, Rejected):
        return code
    short = [
        item.ticket_type_id
        for item in command.items
        if inventory.counts[item.ticket_type_id].available < item.quantity
    ]
    if short:
        return reject(Reason.SOLD_OUT, "not enough tickets left", ticket_type_ids=short)
    items = tuple(
        priced
        for item in command.items
        for priced in priced_items(inventory, item.ticket_type_id, item.quantity, now_ms, code)
    )
    hold = Hold(
        hold_id=command.new_hold_id,
        fan_id=command.fan_id,
        items=items,
        seats=(),
        expires_at_ms=now_ms + inventory.configuration.hold_ttl_ms,
        code_id=code_id_of(code),
    )
    return _placed(hold)


def decide_hold_seats(inventory: Inventory, command: HoldSeats, now_ms: int) -> Decision | Rejected:
    seat_indexes = resolve_seats(inventory, command.seats, limits.SEATS_PER_HOLD_MAX)
    if isinstance(seat_indexes, Rejected):
        return seat_indexes
    code = _hold_code(
        inventory,
        command.code,
        command.new_hold_id,
        command.fan_id,
        sorted(seat_quantities(inventory, seat_indexes)),
        len(seat_indexes),
        now_ms,
    )
    if isinstance(code, Rejected):
        return code
    states = inventory.seat_states.states
    unavailable = [index for index in seat_indexes if states[index] != SeatState.AVAILABLE]
    if unavailable:
        return reject(
            Reason.SEAT_UNAVAILABLE,
            "some seats are not available",
            seats=list(inventory.seat_map.labels(unavailable)),
        )
    return _placed(
        _seat_hold(inventory, command.new_hold_id, command.fan_id, seat_indexes, code, now_ms)
    )


def _seat_hold(
    inventory: Inventory,
    hold_id: HoldId,
    fan_id: FanId,
    seat_indexes: Sequence[int],
    code: CodeDefinition | None,
    now_ms: int,
) -> Hold:
    return Hold(
        hold_id=hold_id,
        fan_id=fan_id,
        items=seat_items(inventory, seat_indexes, now_ms, code),
        seats=inventory.seat_map.labels(seat_indexes),
        expires_at_ms=now_ms + inventory.configuration.hold_ttl_ms,
        code_id=code_id_of(code),
    )


def decide_hold_best_available(
    inventory: Inventory, command: HoldBestAvailable, now_ms: int
) -> Decision | Rejected:
    ticket_type = inventory.ticket_types.get(command.ticket_type_id)
    if ticket_type is None or ticket_type.kind is not TicketKind.SEATED:
        return reject(
            Reason.VALIDATION_ERROR,
            "not a seated ticket type of this event",
            ticket_type_id=command.ticket_type_id,
        )
    if not 1 <= command.quantity <= limits.SEATS_PER_HOLD_MAX:
        return reject(Reason.VALIDATION_ERROR, f"1 to {limits.SEATS_PER_HOLD_MAX} seats")
    sections = inventory.seat_map.sections_by_ticket_type[command.ticket_type_id]
    if command.section is not None and command.section not in sections:
        return reject(
            Reason.VALIDATION_ERROR,
            "no such section for this ticket type",
            section=command.section,
        )
    code = _hold_code(
        inventory,
        command.code,
        command.new_hold_id,
        command.fan_id,
        [command.ticket_type_id],
        command.quantity,
        now_ms,
    )
    if isinstance(code, Rejected):
        return code
    row_ranges = (
        [inventory.seat_map.section_rows[command.section]]
        if command.section is not None
        else inventory.seat_map.rows_of_ticket_type(command.ticket_type_id)
    )
    seat_indexes = find_best_available(
        inventory,
        row_ranges,
        command.quantity,
        contiguous=command.contiguous,
        accessible=command.accessible,
        now_ms=now_ms,
    )
    if seat_indexes is None:
        return reject(Reason.SOLD_OUT, "no seats left that fit this request")
    return _placed(
        _seat_hold(inventory, command.new_hold_id, command.fan_id, seat_indexes, code, now_ms)
    )


def _live_hold_of_fan(
    inventory: Inventory, hold_id: HoldId, fan_id: FanId | None, now_ms: int
) -> Hold | Rejected:
    hold = inventory.holds.get(hold_id)
    if hold is None or (fan_id is not None and hold.fan_id != fan_id):
        return reject(Reason.NOT_FOUND, "no such live hold")
    if hold.expires_at_ms <= now_ms:
        return reject(Reason.HOLD_EXPIRED, "the hold has expired")
    return hold


def decide_release_hold(
    inventory: Inventory, command: ReleaseHold, now_ms: int
) -> Decision | Rejected:
    hold = _live_hold_of_fan(inventory, command.hold_id, command.fan_id, now_ms)
    if isinstance(hold, Rejected):
        return hold
    return Decision(outcome=Acknowledged(), changes=(HoldReleased(hold_id=hold.hold_id),))


def decide_expire_holds(inventory: Inventory, now_ms: int) -> Decision:
    expired = tuple(
        itertools.islice(inventory.expiry.due(now_ms), limits.HOLDS_EXPIRED_PER_COMMAND_MAX)
    )
    forget_before_ms = now_ms - limits.IDEMPOTENCY_KEY_TTL_MS
    forgotten = tuple(
        itertools.islice(
            itertools.takewhile(
                lambda key: inventory.idempotency_records[key].recorded_at_ms <= forget_before_ms,
                inventory.idempotency_records,
            ),
            limits.IDEMPOTENCY_KEYS_FORGOTTEN_PER_COMMAND_MAX,
        )
    )
    changes: list[Change] = []
    if expired:
        changes.append(HoldsExpired(hold_ids=expired))
    if forgotten:
        changes.append(IdempotencyKeysForgotten(keys=forgotten))
    report = ExpiryReport(expired_hold_ids=expired, forgotten_idempotency_keys=forgotten)
    return Decision(outcome=report, changes=tuple(changes))


def decide_extend_hold(
    inventory: Inventory, command: ExtendHold, now_ms: int
) -> Decision | Rejected:
    hold = _live_hold_of_fan(inventory, command.hold_id, command.fan_id, now_ms)
    if isinstance(hold, Rejected):
        return hold
    if hold.extensions >= limits.HOLD_EXTENSIONS_MAX:
        return Decision(outcome=HoldView.of(hold), changes=())
    expires_at_ms = max(hold.expires_at_ms, now_ms + limits.CHECKOUT_WINDOW_MS)
    extended = msgspec.structs.replace(
        hold, expires_at_ms=expires_at_ms, extensions=hold.extensions + 1
    )
    change = HoldExtended(hold_id=hold.hold_id, expires_at_ms=expires_at_ms)
    return Decision(outcome=HoldView.of(extended), changes=(change,))


def decide_convert_hold(
    inventory: Inventory, command: ConvertHold, now_ms: int
) -> Decision | Rejected:
    hold = _live_hold_of_fan(inventory, command.hold_id, None, now_ms)
    if isinstance(hold, Rejected):
        return hold
    if command.new_order_id in inventory.sales:
        return reject(Reason.VALIDATION_ERROR, "this order id is already in use")
    sale = Sale(
        order_id=command.new_order_id,
        fan_id=hold.fan_id,
        items=hold.items,
        seats=hold.seats,
        code_id=hold.code_id,
    )
    change = HoldConverted(hold_id=hold.hold_id, sale=sale, price=price_order(sale.subtotal_cents))
    return Decision(outcome=SaleView.of(sale), changes=(change,))
