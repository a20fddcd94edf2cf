"""Decisions on an event's codes: add some (one, or a generated batch, all or none), turn one on
or off, and the check of the code a hold names, made in the same decision as the hold so a code
is never over-used (the rules are in engine.inventory.codes).
"""

import collections
from collections.abc import Collection

import msgspec

from engine import limits
from engine.changes import CodeActiveChanged, CodesAdded
from engine.commands import AddCodes, ChangeCode
from engine.ids import CodeId, FanId, TicketTypeId
from engine.inventory.codes import CodeDefinition, CodeKind
from engine.inventory.decision import Decision, reject
from engine.inventory.state import Inventory
from engine.outcomes import CodesView
from engine.rejections import Reason, Rejected


def codes_view(inventory: Inventory, codes: Collection[CodeDefinition]) -> CodesView:
    tallies = [inventory.code_tallies.get(code.code_id) for code in codes]
    return CodesView(
        codes=tuple(codes),
        uses=tuple(0 if tally is None else tally.uses for tally in tallies),
        held=tuple(0 if tally is None else tally.held for tally in tallies),
    )


def _definition_problem(inventory: Inventory, code: CodeDefinition) -> str | None:
    if not 1 <= len(code.code) <= limits.CODE_CHARACTERS_MAX or not code.code.isprintable():
        return f"a code is 1 to {limits.CODE_CHARACTERS_MAX} printable characters"
    unknown = [
        ticket_type_id
        for ticket_type_id in (*code.unlocks, *code.applies_to)
        if ticket_type_id not in inventory.ticket_types
    ]
    if unknown:
        return "unlocks and applies_to name ticket types of this event"
    if code.unlocks and code.kind is not CodeKind.PRESALE:
        return "only a presale code unlocks ticket types"
    if code.discount_percent is not None and code.discount_amount_cents is not None:
        return "a discount is a percent or an amount, not both"
    if code.discount_percent is not None and not (
        1 <= code.discount_percent <= limits.CODE_DISCOUNT_PERCENT_MAX
    ):
        return "a discount percent is 1 to 100"
    if code.discount_amount_cents is not None and code.discount_amount_cents < 1:
        return "a discount amount is at least 1 cent"
    if code.kind is CodeKind.DISCOUNT and not code.discounts:
        return "a discount code needs a discount"
    if (
        code.valid_from_ms is not None
        and code.valid_until_ms is not None
        and code.valid_from_ms >= code.valid_until_ms
    ):
        return "valid_until must be after valid_from"
    for cap in (code.max_uses, code.max_uses_per_fan):
        if cap is not None and not 1 <= cap <= limits.CODE_USES_MAX:
            return f"use caps are 1 to {limits.CODE_USES_MAX}"
    return None


def decide_add_codes(inventory: Inventory, command: AddCodes) -> Decision | Rejected:
    codes = command.new_codes
    if not 1 <= len(codes) <= limits.CODES_GENERATED_PER_REQUEST_MAX:
        return reject(
            Reason.VALIDATION_ERROR, f"1 to {limits.CODES_GENERATED_PER_REQUEST_MAX} codes at once"
        )
    if len(inventory.codes) + len(codes) > limits.CODES_PER_EVENT_MAX:
        return reject(
            Reason.VALIDATION_ERROR, f"an event has at most {limits.CODES_PER_EVENT_MAX} codes"
        )
    for code in codes:
        problem = _definition_problem(inventory, code)
        if problem is not None:
            return reject(Reason.VALIDATION_ERROR, problem, code=code.code)
        if code.code_id in inventory.codes:
            return reject(Reason.VALIDATION_ERROR, "this code id is already in use")
    repeated = collections.Counter(code.key for code in codes)
    taken = sorted(
        key for key, count in repeated.items() if count > 1 or key in inventory.code_ids_by_key
    )
    if taken:
        return reject(
            Reason.CODE_EXISTS, "these codes exist for this event already", codes=taken[:10]
        )
    return Decision(outcome=codes_view(inventory, codes), changes=(CodesAdded(codes=codes),))


def decide_change_code(inventory: Inventory, command: ChangeCode) -> Decision | Rejected:
    code = inventory.codes.get(command.code_id)
    if code is None:
        return reject(Reason.NOT_FOUND, "no such code")
    changes = (
        ()
        if code.active == command.active
        else (CodeActiveChanged(code_id=code.code_id, active=command.active),)
    )
    changed = msgspec.structs.replace(code, active=command.active)
    return Decision(outcome=codes_view(inventory, (changed,)), changes=changes)


def code_problem(
    inventory: Inventory, text: str | None, ticket_type_ids: Collection[TicketTypeId], now_ms: int
) -> CodeDefinition | Rejected | None:
    """The code a hold of these types may use, None for no code, or why not (CODE_INVALID);
    a hidden type needs a code that unlocks it (see engine.inventory.codes)."""
    hidden = [
        ticket_type_id
        for ticket_type_id in ticket_type_ids
        if inventory.ticket_types[ticket_type_id].hidden
    ]
    if text is None:
        if hidden:
            return reject(
                Reason.VALIDATION_ERROR,
                "not a ticket type of this event",
                ticket_type_id=hidden[0],
            )
        return None
    code = inventory.code_of_text(text)
    if code is None or not code.is_valid_at(now_ms):
        return reject(Reason.CODE_INVALID, "this code is not valid now")
    if any(ticket_type_id not in code.unlocks for ticket_type_id in hidden):
        return reject(Reason.CODE_INVALID, "this code does not unlock these tickets")
    if not any(
        code.covers(ticket_type_id, inventory.ticket_types[ticket_type_id].hidden)
        for ticket_type_id in ticket_type_ids
    ):
        return reject(Reason.CODE_INVALID, "this code is not for these tickets")
    return code


def code_exhausted(inventory: Inventory, code: CodeDefinition, fan_id: FanId) -> Rejected | None:
    """CODE_EXHAUSTED when one more use (one hold) would pass a cap, live holds counted."""
    tally = inventory.code_tallies[code.code_id]
    if code.max_uses is not None and tally.held + tally.uses >= code.max_uses:
        return reject(Reason.CODE_EXHAUSTED, "this code has no uses left")
    if code.max_uses_per_fan is not None and tally.taken.get(fan_id, 0) >= code.max_uses_per_fan:
        return reject(
            Reason.CODE_EXHAUSTED,
            f"this code is used at most {code.max_uses_per_fan} times per fan",
            limit=code.max_uses_per_fan,
        )
    return None


def opens_early_for(
    code: CodeDefinition | None,
    inventory: Inventory,
    ticket_type_ids: Collection[TicketTypeId],
    now_ms: int,
) -> bool:
    """Whether the code lets this hold be placed before the sale opens: a presale code valid now,
    covering every type the hold asks for. It never opens a paused or closed sale."""
    return (
        code is not None
        and code.opens_early(now_ms)
        and all(
            code.covers(ticket_type_id, inventory.ticket_types[ticket_type_id].hidden)
            for ticket_type_id in ticket_type_ids
        )
    )


def code_id_of(code: CodeDefinition | None) -> CodeId | None:
    return None if code is None else code.code_id
