"""Ticket NFT mints in Postgres: what a batch of tickets needs before minting (each ticket's status,
its mint's status and the wallet its owner registered), and what the mints came to.

Both run once per tenant and batch, in the tenant's transaction. Recording a mint moves its ticket
from issued to valid in the same transaction; a failure counts the attempt and keeps the error,
and only the last attempt's failure marks the mint failed.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec


class MintTarget(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    ticket_status: str
    owner_user_id: str
    mint_status: str | None
    registered_address: str | None


class MintRecord(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    owner_address: str
    mint_address: str
    signature: str


class MintFailure(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    error: str
    is_final: bool


SELECT_MINT_TARGETS = """
SELECT tickets.id AS ticket_id, tickets.status AS ticket_status, tickets.owner_user_id,
       nft_mints.status AS mint_status, fan_wallets.address AS registered_address
FROM tickets
LEFT JOIN nft_mints ON nft_mints.ticket_id = tickets.id
LEFT JOIN fan_wallets ON fan_wallets.tenant_id = tickets.tenant_id
                     AND fan_wallets.user_id = tickets.owner_user_id
WHERE tickets.id = ANY($1::uuid[])
"""


async def load_mint_targets(
    connection: asyncpg.Connection, *, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MintTarget]:
    """The current tenant's tickets among `ticket_ids`, by id; a ticket not found is left out."""
    rows = await connection.fetch(SELECT_MINT_TARGETS, list(ticket_ids))
    return {
        row["ticket_id"]: MintTarget(
            ticket_id=row["ticket_id"],
            ticket_status=row["ticket_status"],
            owner_user_id=row["owner_user_id"],
            mint_status=row["mint_status"],
            registered_address=row["registered_address"],
        )
        for row in rows
    }


RECORD_MINTED = """
INSERT INTO nft_mints (tenant_id, ticket_id, status, owner_address, mint_address, signature,
                       attempts)
SELECT $1, minted.ticket_id, 'minted', minted.owner_address, minted.mint_address,
       minted.signature, 1
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[])
     AS minted(ticket_id, owner_address, mint_address, signature)
ON CONFLICT (ticket_id) DO UPDATE
SET status = 'minted',
    owner_address = excluded.owner_address,
    mint_address = excluded.mint_address,
    signature = excluded.signature,
    attempts = nft_mints.attempts + 1,
    updated_at = now()
WHERE nft_mints.status <> 'minted'
"""

VALIDATE_TICKETS = """
UPDATE tickets SET status = 'valid', updated_at = now()
WHERE id = ANY($1::uuid[]) AND status = 'issued'
"""

RECORD_FAILURES = """
INSERT INTO nft_mints (tenant_id, ticket_id, status, attempts, last_error)
SELECT $1, failure.ticket_id,
       CASE WHEN failure.is_final THEN 'failed' ELSE 'pending' END, 1, failure.error
FROM unnest($2::uuid[], $3::text[], $4::boolean[]) AS failure(ticket_id, error, is_final)
ON CONFLICT (ticket_id) DO UPDATE
SET status = CASE WHEN excluded.status = 'failed' THEN 'failed' ELSE nft_mints.status END,
    attempts = nft_mints.attempts + 1,
    last_error = excluded.last_error,
    updated_at = now()
WHERE nft_mints.status <> 'minted'
"""


async def record_mints(
    connection: asyncpg.Connection,
    *,
    tenant_id: uuid.UUID,
    minted: Sequence[MintRecord],
    failures: Sequence[MintFailure],
) -> None:
    """Record a batch's outcomes; a mint already recorded as minted is never changed."""
    if minted:
        await connection.execute(
            RECORD_MINTED,
            tenant_id,
            [record.ticket_id for record in minted],
            [record.owner_address for record in minted],
            [record.mint_address for record in minted],
            [record.signature for record in minted],
        )
        await connection.execute(VALIDATE_TICKETS, [record.ticket_id for record in minted])
    if failures:
        await connection.execute(
            RECORD_FAILURES,
            tenant_id,
            [failure.ticket_id for failure in failures],
            [failure.error for failure in failures],
            [failure.is_final for failure in failures],
        )
