"""Migration 0027 on tickets issued before it: the HMAC secret that manifests handed out is gone,
each ticket has a fresh seed of its own instead, and its public key is derived from that seed and
stored the first time it is read."""

import pathlib

import asyncpg

from persistence.migrate import migrate
from persistence.ticket_keys import load_code_key_pair, load_public_keys, public_key_of
from tests.persistence.builders import (
    INSERT_EVENT,
    INSERT_HOLD,
    INSERT_ORDER,
    INSERT_TICKET_TYPE,
    INSERT_VENUE,
    create_tenant,
)
from tests.persistence.migration_steps import migrations_before

CODE_KEYS_MIGRATION = "0027_ticket_code_keys.sql"
TICKETS = 3

INSERT_OLD_TICKET = """
INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, owner_user_id, qr_secret,
                     position)
VALUES ($1, $2, $3, $4, 'fan-1', $5, $6)
RETURNING id
"""


async def test_old_tickets_get_fresh_seeds_and_their_public_keys_at_first_read(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    await migrate(empty_database_url, directory=migrations_before(tmp_path, CODE_KEYS_MIGRATION))
    connection = await asyncpg.connect(empty_database_url)
    try:
        tenant_id = await create_tenant(connection, "Tenant before tq2")
        await connection.execute(
            "SELECT set_config('app.current_tenant_id', $1, false)", str(tenant_id)
        )
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, "GA", "general", 5000, 100
        )
        hold_id = await connection.fetchval(
            INSERT_HOLD, tenant_id, event_id, "fan-1", TICKETS, ticket_type_id, 5000
        )
        order_id = await connection.fetchval(INSERT_ORDER, tenant_id, event_id, hold_id)
        old_secrets = {
            await connection.fetchval(
                INSERT_OLD_TICKET, tenant_id, event_id, order_id, ticket_type_id, secret, position
            ): secret
            for position, secret in enumerate(bytes([n]) * 32 for n in range(TICKETS))
        }
        await migrate(empty_database_url)

        rows = await connection.fetch("SELECT id, code_seed, code_public_key FROM tickets")
        ticket_ids = list(old_secrets)
        async with connection.transaction():
            first_read = await load_public_keys(connection, ticket_ids)
        stored = await connection.fetch("SELECT id, code_seed, code_public_key FROM tickets")
        key_pair = await load_code_key_pair(connection, ticket_ids[0])
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'tickets'"
        )
    finally:
        await connection.close()

    assert {row["id"] for row in rows} == set(old_secrets)
    assert all(row["code_public_key"] is None for row in rows)
    seeds = {row["id"]: row["code_seed"] for row in rows}
    assert all(len(seed) == 32 for seed in seeds.values())
    assert len(set(seeds.values())) == TICKETS
    assert not set(seeds.values()) & set(old_secrets.values())
    assert first_read == {ticket_id: public_key_of(seed) for ticket_id, seed in seeds.items()}
    assert {row["id"]: row["code_public_key"] for row in stored} == first_read
    assert key_pair is not None and key_pair.public_key == first_read[ticket_ids[0]]
    assert "qr_secret" not in {row["column_name"] for row in columns}
