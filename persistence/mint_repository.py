"""Ticket NFT mints in Postgres: where each mint of a batch stands, the wallet each attempt claims
before it goes to the chain, and what the mints came to.

Each runs once per tenant and batch, in the tenant's transaction. A mint claims its owner's wallet
(`owner_address` of a mint not yet minted) in the transaction that reads its ticket's line, so a
transfer that commits later sees where the NFT is going. A failure counts the attempt and keeps
the error; once the quick attempts are spent it marks the mint failed, which a later success
still turns into minted. A ticket's status never depends on its mint.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec


class MintState(msgspec.Struct, frozen=True, kw_only=True):
    """`owner_address` is where the NFT went, or where the last attempt meant it to go."""

    status: str
    owner_address: str | None


class MintRecord(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    owner_address: str
    mint_address: str
    signature: str


class MintFailure(msgspec.Struct, frozen=True, kw_only=True):
    """`marks_failed` for a mint that must never happen, or one out of its quick attempts (still
    retried as failed work, and turned into minted when it lands)."""

    ticket_id: uuid.UUID
    error: str
    marks_failed: bool


SELECT_MINT_STATES = """
SELECT ticket_id, status, owner_address FROM nft_mints WHERE ticket_id = ANY($1::uuid[])
"""


async def load_mint_states(
    connection: asyncpg.Connection, *, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MintState]:
    """The current tenant's mints of `ticket_ids` (the NFTs' first tickets), by ticket."""
    rows = await connection.fetch(SELECT_MINT_STATES, list(ticket_ids))
    return {
        row["ticket_id"]: MintState(status=row["status"], owner_address=row["owner_address"])
        for row in rows
    }


CLAIM_OWNERS = """
UPDATE nft_mints SET owner_address = claim.owner_address, updated_at = now()
FROM unnest($1::uuid[], $2::text[]) AS claim(ticket_id, owner_address)
WHERE nft_mints.ticket_id = claim.ticket_id AND nft_mints.status <> 'minted'
"""


async def claim_mint_owners(
    connection: asyncpg.Connection, *, claims: Sequence[tuple[uuid.UUID, str]]
) -> None:
    """Record, before the chain is called, the wallet each mint of `claims` (pairs of the NFT's
    first ticket and a wallet) is going to."""
    if claims:
        await connection.execute(
            CLAIM_OWNERS,
            [ticket_id for ticket_id, _ in claims],
            [owner_address for _, owner_address in claims],
        )


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

RECORD_FAILURES = """
INSERT INTO nft_mints (tenant_id, ticket_id, status, attempts, last_error)
SELECT $1, failure.ticket_id,
       CASE WHEN failure.marks_failed THEN 'failed' ELSE 'pending' END, 1, failure.error
FROM unnest($2::uuid[], $3::text[], $4::boolean[]) AS failure(ticket_id, error, marks_failed)
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
    if failures:
        await connection.execute(
            RECORD_FAILURES,
            tenant_id,
            [failure.ticket_id for failure in failures],
            [failure.error for failure in failures],
            [failure.marks_failed for failure in failures],
        )
