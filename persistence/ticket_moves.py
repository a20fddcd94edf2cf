"""Tickets moved along the state machine of engine/tickets.py in Postgres, one locked row at a
time: the venue's lock, unlock and reissue, and the pieces transfers share with them.

Every move is applied to a row the transaction has locked and is guarded again by the status it
leaves; every move is kept in the append-only audit log; a ticket that replaces another (a
reissue, a transfer's recipient) is a new row naming its predecessor, with a new code key pair,
so the old code dies with the old ticket while the seat, the order and the NFT carry over.
"""

import uuid

import asyncpg
import msgspec

from engine.tickets import TicketMoved, TicketStatus
from persistence.ticket_keys import new_code_key_pair

LOCK_TICKET_STATUS = "SELECT status FROM tickets WHERE id = $1 FOR UPDATE"


async def lock_ticket_status(connection: asyncpg.Connection, ticket_id: uuid.UUID) -> str | None:
    """The ticket's status, its row locked until the transaction ends; None when there is none."""
    status: str | None = await connection.fetchval(LOCK_TICKET_STATUS, ticket_id)
    return status


MOVE_TICKET = """
UPDATE tickets SET status = $2, status_reason = $3, updated_at = now()
WHERE id = $1 AND status = $4
RETURNING 1
"""


async def apply_move(
    connection: asyncpg.Connection, ticket_id: uuid.UUID, moved: TicketMoved
) -> None:
    """Apply `moved` to a ticket whose row the transaction has locked."""
    changed = await connection.fetchval(
        MOVE_TICKET, ticket_id, moved.after, moved.reason, moved.before
    )
    assert changed is not None, "the locked row still has the status just read"


ISSUE_SUCCESSOR = """
INSERT INTO tickets (id, tenant_id, event_id, order_id, ticket_type_id, seat_id, owner_user_id,
                     status, code_seed, code_public_key, position, predecessor_ticket_id,
                     nft_ticket_id, changed_hands_at)
SELECT $2, tenant_id, event_id, order_id, ticket_type_id, seat_id, coalesce($3, owner_user_id),
       $4, $5, $6, position, id,
       coalesce(nft_ticket_id, id), CASE WHEN $7 THEN now() ELSE changed_hands_at END
FROM tickets WHERE id = $1
"""

INSERT_AUDIT = """
INSERT INTO audit_log (tenant_id, actor, action, subject_type, subject_id, details)
VALUES (current_setting('app.current_tenant_id')::uuid, $1, $2, $3, $4, $5::jsonb)
"""


async def record_audit(
    connection: asyncpg.Connection,
    *,
    actor: str,
    action: str,
    subject_id: uuid.UUID,
    details: dict[str, object],
    subject_type: str = "ticket",
) -> None:
    """Keep who did what to a ticket (or an order), in the append-only audit log."""
    await connection.execute(
        INSERT_AUDIT, actor, action, subject_type, subject_id, msgspec.json.encode(details).decode()
    )


async def issue_successor(
    connection: asyncpg.Connection,
    *,
    predecessor_id: uuid.UUID,
    successor_id: uuid.UUID,
    owner_user_id: str | None,
    status: TicketStatus,
    changes_hands: bool,
) -> None:
    """A ticket in the place of `predecessor_id`, which the caller has just ended: same event,
    order, seat and position, its NFT, and a code key pair of its own. It goes to
    `owner_user_id`, or stays with the predecessor's owner when that is None; `changes_hands` says
    it goes to another fan now, which starts the transfer cooldown again."""
    key_pair = new_code_key_pair()
    await connection.execute(
        ISSUE_SUCCESSOR,
        predecessor_id,
        successor_id,
        owner_user_id,
        status,
        key_pair.seed,
        key_pair.public_key,
        changes_hands,
    )


async def reissue(
    connection: asyncpg.Connection,
    *,
    ticket_id: uuid.UUID,
    revoked: TicketMoved,
    successor_id: uuid.UUID,
    actor: str,
    note: str | None,
) -> None:
    """Revoke a lost ticket and issue its owner a new one in its place, in the status it had."""
    await apply_move(connection, ticket_id, revoked)
    await issue_successor(
        connection,
        predecessor_id=ticket_id,
        successor_id=successor_id,
        owner_user_id=None,
        status=revoked.before,
        changes_hands=False,
    )
    await record_audit(
        connection,
        actor=actor,
        action="ticket.reissue",
        subject_id=ticket_id,
        details={"to_ticket_id": str(successor_id), "note": note},
    )


class TicketStanding(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    status: TicketStatus
    status_reason: str | None


LOCK_ORDER_TICKETS = """
SELECT id, status, status_reason FROM tickets WHERE order_id = $1 ORDER BY id FOR UPDATE
"""


async def lock_order_tickets(
    connection: asyncpg.Connection, order_id: uuid.UUID
) -> list[TicketStanding]:
    """Every ticket of the order, ended ones too, their rows locked until the transaction ends
    (in id order, as every lock of several tickets is taken)."""
    rows = await connection.fetch(LOCK_ORDER_TICKETS, order_id)
    return [
        TicketStanding(
            ticket_id=row["id"],
            status=TicketStatus(row["status"]),
            status_reason=row["status_reason"],
        )
        for row in rows
    ]
