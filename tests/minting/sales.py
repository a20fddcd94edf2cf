"""Issued tickets waiting for their NFT, as the payment flow leaves them: a paid order, its tickets
issued, a pending `nft_mints` row and a `mint.ticket` outbox message per ticket."""

import os
import uuid

import asyncpg
import msgspec

from minting.requests import MINT_TOPIC, MintRequest
from persistence.outbox import OutboxMessage
from persistence.tenancy import tenant_transaction
from tests.persistence.builders import (
    INSERT_EVENT,
    INSERT_HOLD,
    INSERT_ORDER,
    INSERT_TICKET_TYPE,
    INSERT_VENUE,
    create_tenant,
)

EVENT_NAME = "Night One"
TICKET_TYPE_NAME = "Floor"
FAN = "fan-1"

INSERT_TICKET = """
INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, owner_user_id, code_seed,
                     position)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
"""

INSERT_OUTBOX_MESSAGE = """
INSERT INTO outbox (tenant_id, topic, aggregate_id, payload) VALUES ($1, $2, $3, $4)
"""


async def issue_tickets(
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    count: int,
    *,
    tenant_name: str = "Tenant A",
    seats: tuple[str | None, ...] = ("101-A-7",),
    with_outbox: bool = False,
) -> list[MintRequest]:
    """A new tenant's paid order of `count` issued tickets, each asking for its NFT; seats are
    given out in turn from `seats` (None: general admission)."""
    tenant_id = await create_tenant(owner_connection, tenant_name)
    requests = []
    async with tenant_transaction(service_pool, tenant_id) as connection:
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, TICKET_TYPE_NAME, "general", 5000, 10_000
        )
        hold_id = await connection.fetchval(
            INSERT_HOLD, tenant_id, event_id, FAN, max(count, 1), ticket_type_id, 5000
        )
        order_id = await connection.fetchval(INSERT_ORDER, tenant_id, event_id, hold_id)
        for position in range(count):
            ticket_id = await connection.fetchval(
                INSERT_TICKET,
                tenant_id,
                event_id,
                order_id,
                ticket_type_id,
                FAN,
                os.urandom(32),
                position,
            )
            await connection.execute(
                "INSERT INTO nft_mints (tenant_id, ticket_id) VALUES ($1, $2)",
                tenant_id,
                ticket_id,
            )
            request = MintRequest(
                ticket_id=ticket_id,
                tenant_id=tenant_id,
                event_id=event_id,
                order_id=order_id,
                owner_user_id=FAN,
                event_name=await connection.fetchval(
                    "SELECT name FROM events WHERE id = $1", event_id
                ),
                ticket_type_name=TICKET_TYPE_NAME,
                seat=seats[position % len(seats)],
            )
            if with_outbox:
                await connection.execute(
                    INSERT_OUTBOX_MESSAGE,
                    tenant_id,
                    MINT_TOPIC,
                    str(ticket_id),
                    msgspec.json.encode(request).decode(),
                )
            requests.append(request)
    return requests


def mint_message(request: MintRequest, *, attempts: int = 0) -> OutboxMessage:
    """The outbox message of `request` as the dispatcher hands it over after `attempts` failures."""
    return OutboxMessage(
        message_id=uuid.uuid4(),
        position=1,
        tenant_id=request.tenant_id,
        topic=MINT_TOPIC,
        aggregate_id=str(request.ticket_id),
        payload=msgspec.json.encode(request).decode(),
        attempts=attempts,
    )


async def mint_row(owner_connection: asyncpg.Connection, ticket_id: uuid.UUID) -> dict[str, object]:
    row = await owner_connection.fetchrow(
        """
        SELECT nft_mints.status, nft_mints.owner_address, nft_mints.mint_address,
               nft_mints.signature, nft_mints.attempts, nft_mints.last_error,
               nft_mints.updated_at, tickets.status AS ticket_status
        FROM nft_mints JOIN tickets ON tickets.id = nft_mints.ticket_id
        WHERE nft_mints.ticket_id = $1
        """,
        ticket_id,
    )
    assert row is not None
    return dict(row)
