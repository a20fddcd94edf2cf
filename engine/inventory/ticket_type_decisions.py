"""Decisions on a ticket type's own sale settings: its window and its price phases.

They change only before the type's first sale (nothing of it sold or held), so no hold or sale
was ever priced or allowed by settings that no longer hold.
"""

import msgspec

from engine.changes import TicketTypeSaleChanged
from engine.commands import ChangeTicketTypeSales, TicketTypeSalePatch
from engine.inventory.configuration import TicketTypeDefinition, ticket_type_sale_problems
from engine.inventory.decision import Decision, reject
from engine.inventory.state import Inventory
from engine.outcomes import Acknowledged
from engine.rejections import Reason, Rejected


def decide_change_ticket_type_sales(
    inventory: Inventory, command: ChangeTicketTypeSales
) -> Decision | Rejected:
    """Every patch checked whole; all types change together or none does."""
    if len({patch.ticket_type_id for patch in command.patches}) != len(command.patches):
        return reject(
            Reason.VALIDATION_ERROR, "each ticket type appears once", field="ticket_types"
        )
    changes: list[TicketTypeSaleChanged] = []
    for patch in command.patches:
        ticket_type = inventory.ticket_types.get(patch.ticket_type_id)
        if ticket_type is None:
            return reject(
                Reason.VALIDATION_ERROR,
                "no such ticket type in this event",
                field="ticket_types",
                ticket_type_id=patch.ticket_type_id,
            )
        counts = inventory.counts[patch.ticket_type_id]
        if counts.sold or counts.held:
            field = _first_given_field(patch)
            return reject(
                Reason.VALIDATION_ERROR,
                f"{field} cannot change once the ticket type has sold or held tickets",
                field=field,
                ticket_type_id=patch.ticket_type_id,
            )
        changed = _patched(ticket_type, patch)
        problems = ticket_type_sale_problems(
            changed, inventory.configuration.opens_at_ms, inventory.configuration.closes_at_ms
        )
        if problems:
            field, message = next(iter(problems.items()))
            return reject(
                Reason.VALIDATION_ERROR, message, field=field, ticket_type_id=patch.ticket_type_id
            )
        if changed != ticket_type:
            changes.append(
                TicketTypeSaleChanged(
                    ticket_type_id=changed.ticket_type_id,
                    price_cents=changed.price_cents,
                    on_sale_from_ms=changed.on_sale_from_ms,
                    on_sale_until_ms=changed.on_sale_until_ms,
                    price_phases=changed.price_phases,
                )
            )
    return Decision(outcome=Acknowledged(), changes=tuple(changes))


def _patched(ticket_type: TicketTypeDefinition, patch: TicketTypeSalePatch) -> TicketTypeDefinition:
    changed = ticket_type
    if not isinstance(patch.on_sale_from_ms, msgspec.UnsetType):
        changed = msgspec.structs.replace(changed, on_sale_from_ms=patch.on_sale_from_ms)
    if not isinstance(patch.on_sale_until_ms, msgspec.UnsetType):
        changed = msgspec.structs.replace(changed, on_sale_until_ms=patch.on_sale_until_ms)
    if not isinstance(patch.price_phases, msgspec.UnsetType):
        phases = patch.price_phases
        price_cents = phases[0].price_cents if phases else changed.price_cents
        changed = msgspec.structs.replace(changed, price_phases=phases, price_cents=price_cents)
    return changed


def _first_given_field(patch: TicketTypeSalePatch) -> str:
    for field, value in (
        ("price_phases", patch.price_phases),
        ("on_sale_from", patch.on_sale_from_ms),
        ("on_sale_until", patch.on_sale_until_ms),
    ):
        if not isinstance(value, msgspec.UnsetType):
            return field
    return "ticket_types"
