"""The NFTs of a refunded order still to mark void, and the record of each one marked.

Runs in the order's tenant transaction. An NFT's row is its first ticket's, and every ticket a
transfer or reissue made of it stays in the same order, so an order's NFTs are the mint rows of
its tickets; only a minted NFT of an order refunded in full is marked.
"""

import uuid
from collections.abc import Sequence

import asyncpg

SELECT_NFTS_TO_VOID = """
SELECT nft_mints.ticket_id, nft_mints.mint_address
FROM nft_mints
JOIN tickets ON tickets.id = nft_mints.ticket_id
JOIN orders ON orders.id = tickets.order_id
WHERE orders.id = $1 AND orders.status = 'refunded'
  AND nft_mints.status = 'minted' AND nft_mints.voided_at IS NULL
ORDER BY nft_mints.ticket_id
"""

RECORD_VOIDED = """
UPDATE nft_mints SET voided_at = now(), void_signature = voided.signature, updated_at = now()
FROM unnest($1::uuid[], $2::text[]) AS voided(ticket_id, signature)
WHERE nft_mints.ticket_id = voided.ticket_id AND nft_mints.voided_at IS NULL
"""


async def load_nfts_to_void(
    connection: asyncpg.Connection, *, order_id: uuid.UUID
) -> list[tuple[uuid.UUID, str]]:
    """(ticket id, mint address) of each minted NFT of the order not marked void yet."""
    return [
        (row["ticket_id"], row["mint_address"])
        for row in await connection.fetch(SELECT_NFTS_TO_VOID, order_id)
    ]


async def record_voided(
    connection: asyncpg.Connection, *, voided: Sequence[tuple[uuid.UUID, str | None]]
) -> None:
    """`voided`: each NFT's first ticket and the signature that marked it (None: found marked)."""
    if voided:
        await connection.execute(
            RECORD_VOIDED,
            [ticket_id for ticket_id, _ in voided],
            [signature for _, signature in voided],
        )
