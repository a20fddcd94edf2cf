"""The secrets one system's processes share, kept in Postgres when configuration does not name
them (migration 0020): each is created by the first process that offers one and read by all.

Offering is idempotent and race-free: every process inserts its candidate if none is stored yet
and takes whatever is stored, so two gateways starting together agree on one value.
"""

from collections.abc import Mapping

import asyncpg

OFFER_SECRET = """
INSERT INTO cluster_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING
"""

SELECT_SECRETS = "SELECT name, value FROM cluster_secrets WHERE name = ANY($1::text[])"


async def shared_secrets(owner_url: str, candidates: Mapping[str, str]) -> dict[str, str]:
    """Each named secret as stored, `candidates[name]` becoming it when none was."""
    connection = await asyncpg.connect(owner_url)
    try:
        async with connection.transaction():
            for name, candidate in candidates.items():
                await connection.execute(OFFER_SECRET, name, candidate)
        rows = await connection.fetch(SELECT_SECRETS, list(candidates))
    finally:
        await connection.close()
    stored = {row["name"]: row["value"] for row in rows}
    assert stored.keys() == candidates.keys(), "every offered secret is stored"
    return stored
