"""A venue's moves of one of its tickets along the state machine of engine/tickets.py: locking
and unlocking it, and reissuing a lost one to its owner; and the moves of all of an order's
tickets at once that a chargeback makes.

Each move runs in the event's tenant transaction on the ticket's locked row, is kept in the audit
log, and is refused (TicketMoveRefused) when the machine forbids it from the status it finds.
"""

import uuid

import asyncpg

from engine.rejections import Rejected
from engine.tickets import TicketAction, TicketMoved, TicketReason, TicketStatus, move_ticket
from persistence.event_details import EventDetails
from persistence.located_ids import mint_located_id
from persistence.tenancy import tenant_transaction
from persistence.ticket_moves import (
    apply_move,
    lock_order_tickets,
    lock_ticket_status,
    record_audit,
    reissue,
)
from persistence.tickets import TicketRecord, load_ticket
from services.refusals import TicketMoveRefused, TicketNotReissuable


def permitted(moved: TicketMoved | Rejected, status: str) -> TicketMoved:
    if isinstance(moved, Rejected):
        raise TicketMoveRefused(moved.message, ticket_status=status)
    return moved


async def move_ticket_for_venue(
    pool: asyncpg.Pool,
    *,
    details: EventDetails,
    ticket_id: uuid.UUID,
    action: TicketAction,
    reason: TicketReason | None,
    note: str | None,
    actor: str,
) -> TicketRecord:
    """The ticket once locked or unlocked, as the state machine allows."""
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        status = await lock_ticket_status(connection, ticket_id)
        assert status is not None, "tickets are never deleted"
        moved = permitted(move_ticket(TicketStatus(status), action, reason), status)
        await apply_move(connection, ticket_id, moved)
        await record_audit(
            connection,
            actor=actor,
            action=f"ticket.{action.value}",
            subject_id=ticket_id,
            details={"reason": reason, "note": note, "before": moved.before},
        )
        changed = await load_ticket(connection, ticket_id)
    assert changed is not None
    return changed


async def replace_lost_ticket(
    pool: asyncpg.Pool,
    *,
    details: EventDetails,
    ticket_id: uuid.UUID,
    note: str | None,
    actor: str,
) -> TicketRecord:
    """The valid ticket's successor: the old one revoked, a new one (new id, new QR code) on the
    same seat and order, carrying the same NFT. TicketNotReissuable unless the ticket is valid."""
    successor_id = uuid.UUID(mint_located_id(details.location.event_number))
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        status = await lock_ticket_status(connection, ticket_id)
        assert status is not None, "tickets are never deleted"
        if status != TicketStatus.VALID:
            raise TicketNotReissuable(ticket_status=status)
        revoked = permitted(
            move_ticket(TicketStatus.VALID, TicketAction.REVOKE, TicketReason.REVOKE), status
        )
        await reissue(
            connection,
            ticket_id=ticket_id,
            revoked=revoked,
            successor_id=successor_id,
            actor=actor,
            note=note,
        )
        successor = await load_ticket(connection, successor_id)
    assert successor is not None
    return successor


async def move_order_tickets(
    connection: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    action: TicketAction,
    reason: TicketReason | None,
    actor: str,
    note: str,
    frozen_for: TicketReason | None = None,
) -> list[uuid.UUID]:
    """Move every ticket of the order that the state machine lets `action` move, in the caller's
    transaction, each kept in the audit log; the ids moved. With `frozen_for`, only the tickets
    frozen for that reason move (an unlock leaves a ticket the venue froze for its own reason)."""
    moved_ids = []
    for ticket in await lock_order_tickets(connection, order_id):
        if frozen_for is not None and ticket.status_reason != frozen_for:
            continue
        moved = move_ticket(ticket.status, action, reason)
        if isinstance(moved, Rejected):
            continue
        await apply_move(connection, ticket.ticket_id, moved)
        await record_audit(
            connection,
            actor=actor,
            action=f"ticket.{action.value}",
            subject_id=ticket.ticket_id,
            details={"reason": reason, "note": note, "before": moved.before},
        )
        moved_ids.append(ticket.ticket_id)
    return moved_ids
