"""The durable side of Idempotency-Key: a row per caller and key, claimed, completed or released.

Postgres is the authority on who owns a key: a claim is one statement, so of any number of
concurrent claims exactly one wins. Every function runs in the caller's tenant transaction, which
row-level security fences. A new answer to a claim is a new Struct in `ClaimOutcome`, matched
exhaustively by the gateway.
"""

import enum
import uuid

import asyncpg
import msgspec

from engine.limits import (
    IDEMPOTENCY_CLAIM_ATTEMPTS_MAX,
    IDEMPOTENCY_IN_FLIGHT_LEASE_MS,
    MILLISECONDS_PER_SECOND,
)


class Claimed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """This request owns the key now; it completes or releases it."""

    expires_at_ms: int


class Replay(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The key completed with the same request: answer with these exact bytes again."""

    status: int
    body: bytes
    media_type: str
    expires_at_ms: int


class ConflictReason(enum.StrEnum):
    DIFFERENT_REQUEST = "different_request"
    IN_FLIGHT = "in_flight"
    # The key is held by a row this tenant cannot see: another tenant's with the same caller, or
    # one claimed and released again between every attempt.
    NOT_VISIBLE = "not_visible"


class Conflict(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    reason: ConflictReason


ClaimOutcome = Claimed | Replay | Conflict

# One statement: insert the claim, or take the row over when it expired or stayed in flight past
# its lease (the gateway that claimed it died). DO NOTHING, unlike DO UPDATE, never reads another
# tenant's conflicting row, and the takeover's UPDATE sees only this tenant's; of concurrent
# takeovers, the first locks the row and the others find it no longer expired.
CLAIM_KEY = """
WITH inserted AS (
    INSERT INTO idempotency_keys (tenant_id, caller, key, request_hash, status, created_at,
                                  expires_at)
    VALUES ($1, $2, $3, $4, 'in_flight', to_timestamp($5::bigint / 1000.0),
            to_timestamp($5::bigint / 1000.0) + make_interval(secs => $6::integer))
    ON CONFLICT (caller, key) DO NOTHING
    RETURNING expires_at
), taken_over AS (
    UPDATE idempotency_keys
    SET request_hash = $4,
        status = 'in_flight',
        response_status = NULL,
        response_body = NULL,
        created_at = to_timestamp($5::bigint / 1000.0),
        expires_at = to_timestamp($5::bigint / 1000.0) + make_interval(secs => $6::integer)
    WHERE tenant_id = $1 AND caller = $2 AND key = $3
      AND NOT EXISTS (SELECT FROM inserted)
      AND (expires_at <= to_timestamp($5::bigint / 1000.0)
           OR (status = 'in_flight'
               AND created_at <= to_timestamp($5::bigint / 1000.0)
                                 - make_interval(secs => $7::integer)))
    RETURNING expires_at
)
SELECT (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms FROM inserted
UNION ALL
SELECT (extract(epoch FROM expires_at) * 1000)::bigint FROM taken_over
"""

SELECT_KEY = """
SELECT request_hash, status, response_status, response_body, response_media_type,
       (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms
FROM idempotency_keys
WHERE caller = $1 AND key = $2
"""


async def claim_key(
    connection: asyncpg.Connection,
    *,
    tenant_id: uuid.UUID,
    caller: str,
    key: str,
    request_hash: str,
    now_ms: int,
    ttl_s: int,
    in_flight_lease_s: int = IDEMPOTENCY_IN_FLIGHT_LEASE_MS // MILLISECONDS_PER_SECOND,
    attempts_max: int = IDEMPOTENCY_CLAIM_ATTEMPTS_MAX,
) -> ClaimOutcome:
    """Claim `key` for `caller`, or say why not: the stored response to replay, or the conflict.

    Run it in a transaction at READ COMMITTED: when the claim loses, the read after it sees the
    winner's committed row. A row that vanishes between the two (released) is claimed again.
    """
    assert ttl_s > 0 and in_flight_lease_s > 0, "a claim lives a positive time"
    assert attempts_max >= 1
    for _ in range(attempts_max):
        expires_at_ms = await connection.fetchval(
            CLAIM_KEY, tenant_id, caller, key, request_hash, now_ms, ttl_s, in_flight_lease_s
        )
        if expires_at_ms is not None:
            return Claimed(expires_at_ms=expires_at_ms)
        row = await connection.fetchrow(SELECT_KEY, caller, key)
        if row is None:
            continue
        if row["request_hash"] != request_hash:
            return Conflict(reason=ConflictReason.DIFFERENT_REQUEST)
        if row["status"] == "in_flight":
            return Conflict(reason=ConflictReason.IN_FLIGHT)
        return Replay(
            status=row["response_status"],
            body=bytes(row["response_body"]),
            media_type=row["response_media_type"],
            expires_at_ms=row["expires_at_ms"],
        )
    return Conflict(reason=ConflictReason.NOT_VISIBLE)


COMPLETE_KEY = """
UPDATE idempotency_keys
SET status = 'completed', response_status = $4, response_body = $5, response_media_type = $6
WHERE caller = $1 AND key = $2 AND request_hash = $3 AND status = 'in_flight'
"""


async def complete_key(
    connection: asyncpg.Connection,
    *,
    caller: str,
    key: str,
    request_hash: str,
    status: int,
    body: bytes,
    media_type: str,
) -> bool:
    """Keep the first response of the claim; False when the claim is no longer in flight."""
    result = await connection.execute(
        COMPLETE_KEY, caller, key, request_hash, status, body, media_type
    )
    return bool(result == "UPDATE 1")


# A claim is known by when it was made: a late release (retried while Postgres was away) never
# frees the claim of a later attempt, which took the key over or claimed it once released.
RELEASE_KEY = """
DELETE FROM idempotency_keys
WHERE caller = $1 AND key = $2 AND request_hash = $3 AND status = 'in_flight'
  AND created_at = to_timestamp($4::bigint / 1000.0)
"""


async def release_key(
    connection: asyncpg.Connection,
    *,
    caller: str,
    key: str,
    request_hash: str,
    claimed_at_ms: int,
) -> bool:
    """Give up the in-flight claim made at `claimed_at_ms` (its `now_ms`): the request changed
    nothing, so a retry runs afresh."""
    result = await connection.execute(RELEASE_KEY, caller, key, request_hash, claimed_at_ms)
    return bool(result == "DELETE 1")


PURGE_EXPIRED_KEYS = """
DELETE FROM idempotency_keys
WHERE id IN (
    SELECT id FROM idempotency_keys
    WHERE expires_at <= to_timestamp($1::bigint / 1000.0)
    ORDER BY expires_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
"""


async def purge_expired_keys(connection: asyncpg.Connection, *, now_ms: int, limit: int) -> int:
    """Delete up to `limit` of the current tenant's expired keys and return how many went.

    The housekeeping loop calls it per tenant until it returns less than `limit`.
    """
    assert limit > 0
    result: str = await connection.execute(PURGE_EXPIRED_KEYS, now_ms, limit)
    return int(result.split()[-1])
