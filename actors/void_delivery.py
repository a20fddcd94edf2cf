"""Consumes the `void.order` topic of the outbox inside the mint workers: marks every minted NFT
of a refunded order void on chain with `TicketVoider`, and records each mark.

A delivery is idempotent: a recorded mark is not read again, and an NFT marked but not recorded
is found marked on chain. An NFT still unminted needs nothing: its ticket is no longer live, so
it is never minted. A mark that failed answers its error for the dispatcher to retry.
"""

import asyncpg

from minting.void_requests import VOID_REQUEST_DECODER
from minting.voider import TicketVoider, VoidFailed, VoidOrder
from persistence.nft_voids import load_nfts_to_void, record_voided
from persistence.outbox import OutboxMessage
from persistence.tenancy import tenant_transaction


class VoidDelivery:
    def __init__(self, *, pool: asyncpg.Pool, voider: TicketVoider) -> None:
        self._pool = pool
        self._voider = voider

    async def deliver(self, messages: list[OutboxMessage]) -> list[str | None]:
        return [await self._deliver_one(message) for message in messages]

    async def _deliver_one(self, message: OutboxMessage) -> str | None:
        request = VOID_REQUEST_DECODER.decode(message.payload)
        if request.tenant_id != message.tenant_id:
            return "the void request names another tenant than its message"
        async with tenant_transaction(self._pool, request.tenant_id) as connection:
            nfts = await load_nfts_to_void(connection, order_id=request.order_id)
        if not nfts:
            return None
        outcomes = await self._voider.void(
            [VoidOrder(ticket_id=ticket_id, mint_address=address) for ticket_id, address in nfts]
        )
        voided = [
            (outcome.ticket_id, outcome.signature)
            for outcome in outcomes
            if not isinstance(outcome, VoidFailed)
        ]
        async with tenant_transaction(self._pool, request.tenant_id) as connection:
            await record_voided(connection, voided=voided)
        failed = [outcome.error for outcome in outcomes if isinstance(outcome, VoidFailed)]
        return f"{len(failed)} NFTs not marked void: {failed[0]}" if failed else None
