"""Consumes the `transfer.ticket` topic of the outbox inside the mint workers: brings each given
ticket's NFT to the wallet of whoever holds the ticket now with `TicketMover`, and records where
it went.

A transfer's message waits behind its NFT's mint (they share an aggregate), and the mint goes to
whoever holds the ticket when it lands, so the NFT may already be with the recipient, or with
the giver, or (after several transfers) with a later holder: the move always aims at the line's
current holder, and a later transfer of the same NFT then finds it arrived. A batch costs one
transaction per tenant to read the transfers and their lines and one to record the outcomes,
with the chain calls between them. A delivery is idempotent: a recorded transfer is skipped, and
one moved but not recorded is found on chain. A failed move answers its error for the dispatcher
to retry, as failed work once its quick attempts are spent; one that can never pass (the NFT in a
wallet nobody here signs for, or a ticket that ended before its NFT was minted) marks the
transfer failed.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from engine import limits
from engine.tickets import LIVE_STATUSES
from minting.custody import Custody
from minting.mover import MoveFailed, MoveOrder, TicketMover
from minting.transfer_requests import TRANSFER_REQUEST_DECODER, TRANSFER_TOPIC, TransferRequest
from persistence.nft_lines import NftLine, load_nft_lines
from persistence.outbox import OutboxMessage
from persistence.tenancy import tenant_transaction
from persistence.ticket_transfers import (
    PendingTransfer,
    TransferFailure,
    TransferMoved,
    load_transfers,
    record_transfer_outcomes,
)


def _cut(error: str) -> str:
    return error[: limits.TRANSFER_ERROR_CHARACTERS_MAX]


class TransferDelivery:
    def __init__(self, *, pool: asyncpg.Pool, custody: Custody, mover: TicketMover) -> None:
        self._pool = pool
        self._custody = custody
        self._mover = mover

    async def deliver(self, messages: Sequence[OutboxMessage]) -> list[str | None]:
        """One answer per message: None when its NFT has moved (or never will), else the error to
        retry it for."""
        answers: list[str | None] = [None] * len(messages)
        requests = self._read_requests(messages, answers)
        transfers, lines = await self._load(requests)
        orders: list[MoveOrder] = []
        ordered: list[int] = []
        failures: dict[uuid.UUID, list[TransferFailure]] = {}
        for index, request in requests.items():
            transfer = transfers.get(request.transfer_id)
            line = None if transfer is None else lines.get(transfer.nft_ticket_id)
            if transfer is None or line is None:
                answers[index] = f"transfer {request.transfer_id} was not found"
            elif transfer.status != "pending":
                continue
            elif transfer.mint_address is None or transfer.nft_owner_address is None:
                if line.current_status in LIVE_STATUSES:
                    answers[index] = "the ticket's NFT is not minted yet"
                else:
                    failures.setdefault(request.tenant_id, []).append(
                        TransferFailure(
                            transfer_id=request.transfer_id,
                            error=f"the ticket is {line.current_status}: it has no NFT to move",
                            is_final=True,
                        )
                    )
            else:
                orders.append(self._order(request, transfer, line))
                ordered.append(index)
        moved: dict[uuid.UUID, list[TransferMoved]] = {}
        for index, outcome in zip(ordered, await self._mover.move(orders), strict=True):
            message = messages[index]
            if isinstance(outcome, MoveFailed):
                failures.setdefault(message.tenant_id, []).append(
                    TransferFailure(
                        transfer_id=outcome.transfer_id,
                        error=_cut(outcome.error),
                        is_final=outcome.is_final,
                    )
                )
                if not outcome.is_final:
                    answers[index] = _cut(outcome.error)
            else:
                moved.setdefault(message.tenant_id, []).append(
                    TransferMoved(
                        transfer_id=outcome.transfer_id,
                        from_address=outcome.from_address,
                        to_address=outcome.to_address,
                        signature=outcome.signature,
                    )
                )
        for tenant_id in set(moved) | set(failures):
            async with tenant_transaction(self._pool, tenant_id) as connection:
                await record_transfer_outcomes(
                    connection, moved=moved.get(tenant_id, []), failures=failures.get(tenant_id, [])
                )
        return answers

    @staticmethod
    def _read_requests(
        messages: Sequence[OutboxMessage], answers: list[str | None]
    ) -> dict[int, TransferRequest]:
        """Each readable request by its message's index; the others are answered with why."""
        requests: dict[int, TransferRequest] = {}
        for index, message in enumerate(messages):
            if message.topic != TRANSFER_TOPIC:
                answers[index] = f"the transfer delivery does not take {message.topic}"
                continue
            try:
                request = TRANSFER_REQUEST_DECODER.decode(message.payload)
            except msgspec.DecodeError as error:
                answers[index] = f"unreadable transfer request: {error}"
                continue
            if request.tenant_id != message.tenant_id:
                answers[index] = "the transfer request names another tenant than its message"
                continue
            requests[index] = request
        return requests

    async def _load(
        self, requests: dict[int, TransferRequest]
    ) -> tuple[dict[uuid.UUID, PendingTransfer], dict[uuid.UUID, NftLine]]:
        """The transfers by id, and their NFTs' lines by the NFT's first ticket."""
        ids_by_tenant: dict[uuid.UUID, list[uuid.UUID]] = {}
        for request in requests.values():
            ids_by_tenant.setdefault(request.tenant_id, []).append(request.transfer_id)
        transfers: dict[uuid.UUID, PendingTransfer] = {}
        lines: dict[uuid.UUID, NftLine] = {}
        for tenant_id, transfer_ids in ids_by_tenant.items():
            async with tenant_transaction(self._pool, tenant_id) as connection:
                found = await load_transfers(connection, transfer_ids)
                transfers.update(found)
                lines.update(
                    await load_nft_lines(
                        connection, [transfer.nft_ticket_id for transfer in found.values()]
                    )
                )
        return transfers, lines

    def _order(
        self, request: TransferRequest, transfer: PendingTransfer, line: NftLine
    ) -> MoveOrder:
        assert transfer.mint_address is not None and transfer.nft_owner_address is not None
        holder = line.current_holder
        recipient = self._custody.owner_address(
            request.tenant_id, holder.user_id, holder.registered_address
        )
        return MoveOrder(
            transfer_id=transfer.transfer_id,
            mint_address=transfer.mint_address,
            holder_address=transfer.nft_owner_address,
            tenant_id=request.tenant_id,
            signers=tuple(earlier.user_id for earlier in line.holders),
            recipient_address=str(recipient),
        )
