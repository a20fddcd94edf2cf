"""Codes as the API shows them: to the venue with their tallies, and to a fan who gives one with
an event's read (the types it unlocks, its prices, whether it is valid now).

The engine decides every use; what a fan sees here is read from Postgres and may be a moment
behind, which changes nothing of what a hold is then given.
"""

import msgspec

from engine.inventory.codes import CodeDefinition, discounted
from gateway.code_schemas import CodeView, DiscountView
from gateway.event_view_schemas import CodeCheckView, FanTicketTypeView
from gateway.schemas import format_moment
from persistence.code_reads import StoredCode
from persistence.event_details import EventDetails


def moment_or_none(moment_ms: int | None) -> str | None:
    return None if moment_ms is None else format_moment(moment_ms)


def discount_view(code: CodeDefinition) -> DiscountView | None:
    if code.discount_percent is not None:
        return DiscountView(percent=code.discount_percent)
    if code.discount_amount_cents is not None:
        return DiscountView(amount_cents=code.discount_amount_cents)
    return None


def ticket_type_keys(details: EventDetails) -> dict[str, str]:
    return {ticket_type.ticket_type_id: ticket_type.key for ticket_type in details.ticket_types}


def code_view(details: EventDetails, stored: StoredCode) -> CodeView:
    code = stored.definition
    keys = ticket_type_keys(details)
    return CodeView(
        code_id=code.code_id,
        code=code.code,
        kind=code.kind,
        unlocks=[keys[ticket_type_id] for ticket_type_id in code.unlocks],
        applies_to=[keys[ticket_type_id] for ticket_type_id in code.applies_to],
        valid_from=moment_or_none(code.valid_from_ms),
        valid_until=moment_or_none(code.valid_until_ms),
        max_uses=code.max_uses,
        max_uses_per_fan=code.max_uses_per_fan,
        discount=discount_view(code),
        active=code.active,
        uses=stored.uses,
        held=stored.held,
    )


def code_check(stored: StoredCode | None, now_ms: int) -> CodeCheckView:
    """Whether a fan's code is valid now, and why not: `unknown`, `inactive`, `not_yet_valid`,
    `expired` or `exhausted` (every use taken, live holds counted)."""
    if stored is None:
        return CodeCheckView(valid=False, reason="unknown")
    code = stored.definition
    if not code.active:
        return CodeCheckView(valid=False, reason="inactive")
    if code.valid_from_ms is not None and now_ms < code.valid_from_ms:
        return CodeCheckView(valid=False, reason="not_yet_valid")
    if code.valid_until_ms is not None and now_ms >= code.valid_until_ms:
        return CodeCheckView(valid=False, reason="expired")
    if code.max_uses is not None and stored.uses + stored.held >= code.max_uses:
        return CodeCheckView(valid=False, reason="exhausted")
    return CodeCheckView(valid=True)


def visible_ticket_type_ids(details: EventDetails, code: CodeDefinition | None) -> set[str]:
    """The types a fan sees: every type not hidden, and the hidden ones a valid code unlocks."""
    unlocked = set(code.unlocks) if code is not None else set()
    return {
        ticket_type.ticket_type_id
        for ticket_type in details.ticket_types
        if not ticket_type.hidden or ticket_type.ticket_type_id in unlocked
    }


def with_code(
    views: list[FanTicketTypeView], details: EventDetails, code: CodeDefinition | None
) -> list[FanTicketTypeView]:
    """The fan's ticket types: hidden ones left out unless the code unlocks them, and prices
    after the code's discount."""
    visible = visible_ticket_type_ids(details, code)
    return [
        view
        if code is None
        else msgspec.structs.replace(view, price_cents=discounted(view.price_cents, code, view.id))
        for view in views
        if view.id in visible
    ]
