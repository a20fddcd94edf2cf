"""The line of tickets that carries one NFT, as the chain work reads it: the NFT's first ticket,
every ticket that replaced it (a transfer's recipient, a reissue) and the one at the end of the
line, whose owner the NFT belongs to now.

An NFT lands with whoever holds its line when it lands, so a mint or a move may run before or
after any transfer. The line's rows are read FOR SHARE, so a transfer of its ticket (which locks
the row FOR UPDATE) waits for the transaction that read them, and the reader decides on what the
line is, not on what it was.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec


class LineHolder(msgspec.Struct, frozen=True, kw_only=True):
    """A fan who held a ticket of the line, and the wallet they registered, if any."""

    user_id: str
    registered_address: str | None


class NftLine(msgspec.Struct, frozen=True, kw_only=True):
    nft_ticket_id: uuid.UUID
    current_ticket_id: uuid.UUID
    current_status: str
    current_holder: LineHolder
    holders: tuple[LineHolder, ...]


SELECT_LINES = """
SELECT coalesce(tickets.nft_ticket_id, tickets.id) AS nft_ticket_id, tickets.id,
       tickets.status, tickets.owner_user_id, fan_wallets.address AS registered_address,
       NOT EXISTS (SELECT 1 FROM tickets AS successor
                   WHERE successor.predecessor_ticket_id = tickets.id) AS is_current
FROM tickets
LEFT JOIN fan_wallets ON fan_wallets.tenant_id = tickets.tenant_id
                     AND fan_wallets.user_id = tickets.owner_user_id
WHERE tickets.id = ANY($1::uuid[]) OR tickets.nft_ticket_id = ANY($1::uuid[])
ORDER BY tickets.issued_at, tickets.id
FOR SHARE OF tickets
"""


async def load_nft_lines(
    connection: asyncpg.Connection, nft_ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, NftLine]:
    """The transaction's tenant's lines among `nft_ticket_ids`, by the NFT's first ticket; a line
    not found is left out."""
    rows = await connection.fetch(SELECT_LINES, list(nft_ticket_ids))
    holders: dict[uuid.UUID, list[LineHolder]] = {}
    current: dict[uuid.UUID, asyncpg.Record] = {}
    for row in rows:
        holder = LineHolder(
            user_id=row["owner_user_id"], registered_address=row["registered_address"]
        )
        line_holders = holders.setdefault(row["nft_ticket_id"], [])
        if holder not in line_holders:
            line_holders.append(holder)
        if row["is_current"]:
            current[row["nft_ticket_id"]] = row
    return {
        nft_ticket_id: NftLine(
            nft_ticket_id=nft_ticket_id,
            current_ticket_id=row["id"],
            current_status=row["status"],
            current_holder=LineHolder(
                user_id=row["owner_user_id"], registered_address=row["registered_address"]
            ),
            holders=tuple(holders[nft_ticket_id]),
        )
        for nft_ticket_id, row in current.items()
    }
