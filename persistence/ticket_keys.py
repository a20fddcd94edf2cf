"""The Ed25519 key pair each ticket row is born with, and the public keys gates verify with.

The seed signs the ticket's codes; it leaves the service only for the ticket's owner. A ticket
that replaces another (a transfer, a reissue) is a new row with a new pair, so the old codes die
with the old row. A row written without its public key (before migration 0027, or by a bulk
insert that let Postgres draw the seed) gets it derived from its seed and stored the first time
it is read, in the reader's transaction; the key never changes after that.
"""

import secrets
import uuid
from collections.abc import Sequence

import asyncpg
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CODE_SEED_BYTES = 32


class CodeKeyPair(msgspec.Struct, frozen=True, kw_only=True):
    seed: bytes
    public_key: bytes


def public_key_of(seed: bytes) -> bytes:
    assert len(seed) == CODE_SEED_BYTES, "an Ed25519 seed is 32 bytes"
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def new_code_key_pair() -> CodeKeyPair:
    seed = secrets.token_bytes(CODE_SEED_BYTES)
    return CodeKeyPair(seed=seed, public_key=public_key_of(seed))


SELECT_PUBLIC_KEYS = """
SELECT id, code_public_key, CASE WHEN code_public_key IS NULL THEN code_seed END AS seed
FROM tickets WHERE id = ANY($1::uuid[])
"""

STORE_PUBLIC_KEYS = """
UPDATE tickets SET code_public_key = key.public_key
FROM unnest($1::uuid[], $2::bytea[]) AS key (ticket_id, public_key)
WHERE tickets.id = key.ticket_id AND tickets.code_public_key IS NULL
"""


async def load_public_keys(
    connection: asyncpg.Connection, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, bytes]:
    """The public code key of each of `ticket_ids` that exists in the transaction's tenant,
    storing those derived now."""
    rows = await connection.fetch(SELECT_PUBLIC_KEYS, list(ticket_ids))
    keys = {row["id"]: row["code_public_key"] for row in rows if row["seed"] is None}
    derived = {row["id"]: public_key_of(row["seed"]) for row in rows if row["seed"] is not None}
    if derived:
        await connection.execute(STORE_PUBLIC_KEYS, list(derived), list(derived.values()))
    return keys | derived


SELECT_SEED = "SELECT code_seed FROM tickets WHERE id = $1"


async def load_code_key_pair(
    connection: asyncpg.Connection, ticket_id: uuid.UUID
) -> CodeKeyPair | None:
    """The ticket's key pair, for its owner's codes only; None when there is no such ticket."""
    seed: bytes | None = await connection.fetchval(SELECT_SEED, ticket_id)
    return None if seed is None else CodeKeyPair(seed=seed, public_key=public_key_of(seed))
