"""Tickets offered by email, in Postgres (migration 0034): a claim is written with the hash of its
token's secret, read and locked by id when its taker or its giver acts, and ended once.

Times are passed in as unix milliseconds; a pending claim whose `expires_at` has passed counts as
expired wherever it is read, and is marked so when its ticket is offered again.
"""

import uuid

import asyncpg
import msgspec

MOMENT = "timestamptz 'epoch' + $%d::bigint * interval '1 millisecond'"


class ClaimRecord(msgspec.Struct, frozen=True, kw_only=True):
    claim_id: uuid.UUID
    event_id: uuid.UUID
    ticket_id: uuid.UUID
    kind: str
    giver_user_id: str
    to_email: str
    secret_hash: bytes
    status: str
    expires_at_ms: int
    accepted_ticket_id: uuid.UUID | None


CLAIM_COLUMNS = """
id, event_id, ticket_id, kind, giver_user_id, to_email, secret_hash, status,
(extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms, accepted_ticket_id
"""


def claim_of(row: asyncpg.Record) -> ClaimRecord:
    return ClaimRecord(
        claim_id=row["id"],
        event_id=row["event_id"],
        ticket_id=row["ticket_id"],
        kind=row["kind"],
        giver_user_id=row["giver_user_id"],
        to_email=row["to_email"],
        secret_hash=bytes(row["secret_hash"]),
        status=row["status"],
        expires_at_ms=row["expires_at_ms"],
        accepted_ticket_id=row["accepted_ticket_id"],
    )


EXPIRE_PENDING = f"""
UPDATE ticket_claims SET status = 'expired', ended_at = {MOMENT % 2}
WHERE ticket_id = $1 AND status = 'pending' AND expires_at <= {MOMENT % 2}
"""

HAS_PENDING = f"""
SELECT EXISTS (
    SELECT 1 FROM ticket_claims
    WHERE ticket_id = $1 AND status = 'pending' AND expires_at > {MOMENT % 2}
)
"""


async def has_pending_claim(
    connection: asyncpg.Connection, *, ticket_id: uuid.UUID, now_ms: int
) -> bool:
    """Whether the ticket is offered to someone now; a lapsed offer is marked expired first."""
    await connection.execute(EXPIRE_PENDING, ticket_id, now_ms)
    pending: bool = await connection.fetchval(HAS_PENDING, ticket_id, now_ms)
    return pending


INSERT_CLAIM = f"""
INSERT INTO ticket_claims (id, tenant_id, event_id, ticket_id, kind, giver_user_id, to_email,
                           secret_hash, expires_at, created_at)
VALUES ($1, current_setting('app.current_tenant_id')::uuid, $2, $3, $4, $5, $6, $7,
        {MOMENT % 8}, {MOMENT % 9})
RETURNING {CLAIM_COLUMNS}
"""


async def insert_claim(
    connection: asyncpg.Connection,
    *,
    claim_id: uuid.UUID,
    event_id: uuid.UUID,
    ticket_id: uuid.UUID,
    kind: str,
    giver_user_id: str,
    to_email: str,
    secret_hash: bytes,
    expires_at_ms: int,
    now_ms: int,
) -> ClaimRecord:
    """The new pending claim; the caller has checked the ticket has none (the unique index on
    pending claims backs that check)."""
    row = await connection.fetchrow(
        INSERT_CLAIM,
        claim_id,
        event_id,
        ticket_id,
        kind,
        giver_user_id,
        to_email,
        secret_hash,
        expires_at_ms,
        now_ms,
    )
    assert row is not None
    return claim_of(row)


LOCK_CLAIM = f"SELECT {CLAIM_COLUMNS} FROM ticket_claims WHERE id = $1 FOR UPDATE"


async def lock_claim(connection: asyncpg.Connection, claim_id: uuid.UUID) -> ClaimRecord | None:
    """The claim, locked until the transaction ends: of two takers, the second waits for the
    first and then sees the claim ended."""
    row = await connection.fetchrow(LOCK_CLAIM, claim_id)
    return None if row is None else claim_of(row)


END_CLAIM = f"""
UPDATE ticket_claims
SET status = $2, ended_at = {MOMENT % 3}, accepted_by = $4, accepted_ticket_id = $5
WHERE id = $1 AND status = 'pending'
RETURNING {CLAIM_COLUMNS}
"""


async def end_claim(
    connection: asyncpg.Connection,
    *,
    claim_id: uuid.UUID,
    status: str,
    now_ms: int,
    accepted_by: str | None = None,
    accepted_ticket_id: uuid.UUID | None = None,
) -> ClaimRecord:
    """The locked pending claim ended as `status` (`accepted`, `cancelled` or `expired`)."""
    row = await connection.fetchrow(
        END_CLAIM, claim_id, status, now_ms, accepted_by, accepted_ticket_id
    )
    assert row is not None, "only a locked pending claim is ended"
    return claim_of(row)


SELECT_PENDING = (
    f"SELECT {CLAIM_COLUMNS} FROM ticket_claims WHERE ticket_id = $1 AND status = 'pending'"
)


async def load_pending_claim(
    connection: asyncpg.Connection, ticket_id: uuid.UUID
) -> ClaimRecord | None:
    row = await connection.fetchrow(SELECT_PENDING, ticket_id)
    return None if row is None else claim_of(row)
