"""Transfers of tickets between fans in Postgres: the giving, in the event's tenant transaction, and
what the chain made of it afterwards.

Giving locks the ticket's row, ends it as `transferred` and issues the recipient's ticket in its
place (same event, order, seat and position, a new id and a new code key pair, the same NFT), with a
`ticket_transfers` row and an audit entry; the old QR code dies with the old ticket. The unique
keys on the predecessor and on the transfer's tickets let a ticket leave its fan once. The NFT,
minted yet or not, follows later through the outbox to whoever holds the ticket then; its outcome
is recorded on the transfer and on the mint's owner.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from engine.tickets import TicketMoved, TicketStatus
from persistence.ticket_moves import apply_move, issue_successor, record_audit


class TransferSubject(msgspec.Struct, frozen=True, kw_only=True):
    """The ticket to give, locked, with what the rules and the chain need to know of it;
    `nft_owner_address` is where its NFT is, or where a mint under way is putting it."""

    ticket_id: uuid.UUID
    event_id: uuid.UUID
    owner_user_id: str
    status: str
    nft_ticket_id: uuid.UUID
    transfers_allowed: bool
    changed_hands_at_ms: int | None
    nft_owner_address: str | None
    registered_address: str | None


LOCK_SUBJECT = """
SELECT tickets.id, tickets.event_id, tickets.owner_user_id, tickets.status,
       coalesce(tickets.nft_ticket_id, tickets.id) AS nft_ticket_id, events.transfers_allowed,
       (extract(epoch FROM tickets.changed_hands_at) * 1000)::bigint AS changed_hands_at_ms,
       nft_mints.owner_address AS nft_owner_address,
       fan_wallets.address AS registered_address
FROM tickets
JOIN events ON events.id = tickets.event_id
LEFT JOIN nft_mints ON nft_mints.ticket_id = coalesce(tickets.nft_ticket_id, tickets.id)
LEFT JOIN fan_wallets ON fan_wallets.tenant_id = tickets.tenant_id
                     AND fan_wallets.user_id = tickets.owner_user_id
WHERE tickets.id = $1
FOR UPDATE OF tickets
"""


async def lock_transfer_subject(
    connection: asyncpg.Connection, ticket_id: uuid.UUID
) -> TransferSubject | None:
    row = await connection.fetchrow(LOCK_SUBJECT, ticket_id)
    if row is None:
        return None
    return TransferSubject(
        ticket_id=row["id"],
        event_id=row["event_id"],
        owner_user_id=row["owner_user_id"],
        status=row["status"],
        nft_ticket_id=row["nft_ticket_id"],
        transfers_allowed=row["transfers_allowed"],
        changed_hands_at_ms=row["changed_hands_at_ms"],
        nft_owner_address=row["nft_owner_address"],
        registered_address=row["registered_address"],
    )


COUNT_RECENT_TRANSFERS = """
SELECT count(*) FROM ticket_transfers
WHERE from_user_id = $1
  AND created_at > timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
"""


async def count_transfers_since(
    connection: asyncpg.Connection, *, giver_id: str, since_ms: int
) -> int:
    """The giver's transfers of tickets of the transaction's tenant since `since_ms`."""
    count: int = await connection.fetchval(COUNT_RECENT_TRANSFERS, giver_id, since_ms)
    return count


INSERT_TRANSFER = """
INSERT INTO ticket_transfers (tenant_id, event_id, from_ticket_id, to_ticket_id, nft_ticket_id,
                              from_user_id, to_user_id)
VALUES (current_setting('app.current_tenant_id')::uuid, $1, $2, $3, $4, $5, $6)
RETURNING id
"""


async def give_ticket(
    connection: asyncpg.Connection,
    *,
    subject: TransferSubject,
    moved: TicketMoved,
    recipient_id: str,
    new_ticket_id: uuid.UUID,
) -> uuid.UUID:
    """End the given ticket, issue the recipient's, and record the transfer; its id is returned.

    `moved` is the state machine's TRANSFER of the locked `subject`; the recipient's ticket
    starts again as VALID, as the state machine says.
    """
    await apply_move(connection, subject.ticket_id, moved)
    await issue_successor(
        connection,
        predecessor_id=subject.ticket_id,
        successor_id=new_ticket_id,
        owner_user_id=recipient_id,
        status=TicketStatus.VALID,
        changes_hands=True,
    )
    transfer_id: uuid.UUID = await connection.fetchval(
        INSERT_TRANSFER,
        subject.event_id,
        subject.ticket_id,
        new_ticket_id,
        subject.nft_ticket_id,
        subject.owner_user_id,
        recipient_id,
    )
    await record_audit(
        connection,
        actor=subject.owner_user_id,
        action="ticket.transfer",
        subject_id=subject.ticket_id,
        details={"to_ticket_id": str(new_ticket_id), "transfer_id": str(transfer_id)},
    )
    return transfer_id


SELECT_CONTACT_EMAIL = """
SELECT contact_email FROM orders
WHERE event_id = $1 AND user_id = $2 AND contact_email IS NOT NULL
ORDER BY created_at DESC
LIMIT 1
"""


async def find_contact_email(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, user_id: str
) -> str | None:
    """The address the fan last gave with an order for the event, if any."""
    email: str | None = await connection.fetchval(SELECT_CONTACT_EMAIL, event_id, user_id)
    return email


class PendingTransfer(msgspec.Struct, frozen=True, kw_only=True):
    """A transfer as the chain work needs it: its NFT's line and where its mint stands."""

    transfer_id: uuid.UUID
    status: str
    nft_ticket_id: uuid.UUID
    mint_address: str | None
    nft_owner_address: str | None


SELECT_PENDING_TRANSFERS = """
SELECT ticket_transfers.id, ticket_transfers.status, ticket_transfers.nft_ticket_id,
       nft_mints.mint_address, nft_mints.owner_address AS nft_owner_address
FROM ticket_transfers
LEFT JOIN nft_mints ON nft_mints.ticket_id = ticket_transfers.nft_ticket_id
                   AND nft_mints.status = 'minted'
WHERE ticket_transfers.id = ANY($1::uuid[])
"""


async def load_transfers(
    connection: asyncpg.Connection, transfer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PendingTransfer]:
    """The transfers by id; `mint_address` and `nft_owner_address` are None until the NFT is
    minted."""
    rows = await connection.fetch(SELECT_PENDING_TRANSFERS, list(transfer_ids))
    return {
        row["id"]: PendingTransfer(
            transfer_id=row["id"],
            status=row["status"],
            nft_ticket_id=row["nft_ticket_id"],
            mint_address=row["mint_address"],
            nft_owner_address=row["nft_owner_address"],
        )
        for row in rows
    }


class TransferMoved(msgspec.Struct, frozen=True, kw_only=True):
    transfer_id: uuid.UUID
    from_address: str
    to_address: str
    signature: str | None


class TransferFailure(msgspec.Struct, frozen=True, kw_only=True):
    transfer_id: uuid.UUID
    error: str
    is_final: bool


RECORD_MOVED = """
WITH moved AS (
    UPDATE ticket_transfers
    SET status = 'transferred', from_address = moved.from_address,
        to_address = moved.to_address, signature = moved.signature, attempts = attempts + 1,
        updated_at = now()
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
         AS moved (id, from_address, to_address, signature)
    WHERE ticket_transfers.id = moved.id AND ticket_transfers.status = 'pending'
    RETURNING ticket_transfers.nft_ticket_id, moved.to_address
)
UPDATE nft_mints SET owner_address = moved.to_address, updated_at = now()
FROM moved WHERE nft_mints.ticket_id = moved.nft_ticket_id
"""

RECORD_FAILURES = """
UPDATE ticket_transfers
SET status = CASE WHEN failure.is_final THEN 'failed' ELSE 'pending' END,
    attempts = attempts + 1, last_error = failure.error, updated_at = now()
FROM unnest($1::uuid[], $2::text[], $3::boolean[]) AS failure (id, error, is_final)
WHERE ticket_transfers.id = failure.id AND ticket_transfers.status = 'pending'
"""


async def record_transfer_outcomes(
    connection: asyncpg.Connection,
    *,
    moved: Sequence[TransferMoved],
    failures: Sequence[TransferFailure],
) -> None:
    """A moved NFT's new owner is its mint's owner from now on; a recorded outcome never changes."""
    if moved:
        await connection.execute(
            RECORD_MOVED,
            [outcome.transfer_id for outcome in moved],
            [outcome.from_address for outcome in moved],
            [outcome.to_address for outcome in moved],
            [outcome.signature for outcome in moved],
        )
    if failures:
        await connection.execute(
            RECORD_FAILURES,
            [failure.transfer_id for failure in failures],
            [failure.error for failure in failures],
            [failure.is_final for failure in failures],
        )
