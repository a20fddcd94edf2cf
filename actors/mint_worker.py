"""Consumes the `mint.ticket` topic of the outbox: mints each issued ticket's NFT and records it;
and the `transfer.ticket` topic, through `TransferDelivery`, with the same chain, keys and pool.

A batch costs two transactions per tenant, one to read what the tickets need (their status, their
mint's status, their owner's registered wallet) and one to record every outcome, and between them
the chain calls of `TicketMinter`, which reads the chain before it sends. A delivery is idempotent:
a ticket whose mint is recorded is skipped, and one minted but not recorded is found on chain.
A failed mint counts an attempt and answers its error for the dispatcher to retry; on the
message's last attempt the mint is marked failed, so the sale's figures show it.
"""

import asyncio
import uuid
from collections.abc import Sequence

import asyncpg
import msgspec
from solders.keypair import Keypair

from actors.transfer_delivery import TransferDelivery
from engine import limits
from minting.chain import ChainBackend
from minting.custody import Custody
from minting.minter import MintFailed, MintOrder, TicketMinter
from minting.mover import TicketMover
from minting.requests import MINT_REQUEST_DECODER, MINT_TOPIC, MintRequest
from minting.transfer_requests import TRANSFER_TOPIC
from persistence.mint_repository import (
    MintFailure,
    MintRecord,
    MintTarget,
    load_mint_targets,
    record_mints,
)
from persistence.outbox import OutboxMessage
from persistence.pool import create_pool
from persistence.tenancy import tenant_transaction

MINT_WORKER_POOL_SIZE_MAX = 2
# A ticket that stopped being live before its NFT was minted never gets one.
MINTABLE_TICKET_STATUSES = frozenset({"issued", "valid", "checked_in", "locked"})


def is_last_attempt(message: OutboxMessage) -> bool:
    return message.attempts + 1 >= limits.OUTBOX_ATTEMPTS_MAX


def _cut(error: str) -> str:
    return error[: limits.MINT_ERROR_CHARACTERS_MAX]


class _Outcomes:
    """What one delivery has decided so far: each message's answer, each tenant's records."""

    def __init__(self, count: int) -> None:
        self.answers: list[str | None] = [None] * count
        self.minted: dict[uuid.UUID, list[MintRecord]] = {}
        self.failures: dict[uuid.UUID, list[MintFailure]] = {}

    def fail(self, index: int, message: OutboxMessage, ticket_id: uuid.UUID, error: str) -> None:
        """A mint that did not happen: retried, unless this was the message's last attempt."""
        self.answers[index] = _cut(error)
        self.failures.setdefault(message.tenant_id, []).append(
            MintFailure(ticket_id=ticket_id, error=_cut(error), is_final=is_last_attempt(message))
        )

    def refuse(self, message: OutboxMessage, ticket_id: uuid.UUID, error: str) -> None:
        """A mint that must never happen: settled as failed, and the message is done."""
        self.failures.setdefault(message.tenant_id, []).append(
            MintFailure(ticket_id=ticket_id, error=_cut(error), is_final=True)
        )

    def tenants(self) -> set[uuid.UUID]:
        return set(self.minted) | set(self.failures)


class MintWorker:
    """A plain class; made a Ray actor in actors/remote.py. `__init__` does no I/O.

    `database_url` is the service role's URL; `authority_key` the mint authority's base58 secret
    key; `custody_seed` the seed of custodial wallets and mint addresses (minting/custody.py).
    """

    def __init__(
        self, *, database_url: str, chain: ChainBackend, authority_key: str, custody_seed: str
    ) -> None:
        self._database_url = database_url
        self._chain = chain
        self._authority_key = authority_key
        self._custody_seed = custody_seed
        self._pool: asyncpg.Pool | None = None
        self._custody: Custody | None = None
        self._minter: TicketMinter | None = None
        self._transfers: TransferDelivery | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        """Read the keys and open the pool once; calling again changes nothing."""
        async with self._starting:
            if self._pool is not None:
                return
            self._custody = Custody(self._custody_seed)
            authority = Keypair.from_base58_string(self._authority_key)
            self._minter = TicketMinter(
                chain=self._chain, authority=authority, custody=self._custody
            )
            pool = await create_pool(
                self._database_url, min_size=1, max_size=MINT_WORKER_POOL_SIZE_MAX
            )
            self._transfers = TransferDelivery(
                pool=pool,
                custody=self._custody,
                mover=TicketMover(chain=self._chain, authority=authority, custody=self._custody),
            )
            self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def deliver(self, messages: list[OutboxMessage]) -> list[str | None]:
        """One answer per message: None when its ticket's NFT is minted or moved (or never will
        be), else the error to retry it for."""
        await self.start()
        assert self._transfers is not None
        answers: list[str | None] = [None] * len(messages)
        transfers = [
            index for index, message in enumerate(messages) if message.topic == TRANSFER_TOPIC
        ]
        others = [
            index for index, message in enumerate(messages) if message.topic != TRANSFER_TOPIC
        ]
        for deliver, indexes in ((self._transfers.deliver, transfers), (self._mint, others)):
            if indexes:
                share = await deliver([messages[index] for index in indexes])
                for index, answer in zip(indexes, share, strict=True):
                    answers[index] = answer
        return answers

    async def _mint(self, messages: list[OutboxMessage]) -> list[str | None]:
        assert self._pool is not None and self._custody is not None and self._minter is not None
        outcomes = _Outcomes(len(messages))
        requests = self._read_requests(messages, outcomes)
        targets = await self._load_targets(requests)
        orders: list[MintOrder] = []
        ordered: list[int] = []
        for index, request in requests.items():
            message = messages[index]
            target = targets.get(request.ticket_id)
            if target is None:
                outcomes.answers[index] = f"ticket {request.ticket_id} was not found"
            elif target.mint_status == "minted":
                continue
            elif target.ticket_status not in MINTABLE_TICKET_STATUSES:
                outcomes.refuse(
                    message, request.ticket_id, f"the ticket is {target.ticket_status}: no NFT"
                )
            else:
                try:
                    orders.append(self._order(request, target))
                    ordered.append(index)
                except ValueError as error:
                    outcomes.fail(index, message, request.ticket_id, f"no wallet: {error}")
        for index, outcome in zip(ordered, await self._minter.mint(orders), strict=True):
            message = messages[index]
            if isinstance(outcome, MintFailed):
                outcomes.fail(index, message, outcome.ticket_id, outcome.error)
            else:
                outcomes.minted.setdefault(message.tenant_id, []).append(
                    MintRecord(
                        ticket_id=outcome.ticket_id,
                        owner_address=outcome.owner_address,
                        mint_address=outcome.mint_address,
                        signature=outcome.signature,
                    )
                )
        for tenant_id in outcomes.tenants():
            async with tenant_transaction(self._pool, tenant_id) as connection:
                await record_mints(
                    connection,
                    tenant_id=tenant_id,
                    minted=outcomes.minted.get(tenant_id, []),
                    failures=outcomes.failures.get(tenant_id, []),
                )
        return outcomes.answers

    def _read_requests(
        self, messages: Sequence[OutboxMessage], outcomes: _Outcomes
    ) -> dict[int, MintRequest]:
        """Each readable request by its message's index; the others are answered with why."""
        requests: dict[int, MintRequest] = {}
        for index, message in enumerate(messages):
            if message.topic != MINT_TOPIC:
                outcomes.answers[index] = f"the mint worker does not take {message.topic}"
                continue
            try:
                request = MINT_REQUEST_DECODER.decode(message.payload)
            except msgspec.DecodeError as error:
                outcomes.answers[index] = f"unreadable mint request: {error}"
                continue
            if request.tenant_id != message.tenant_id:
                outcomes.answers[index] = "the mint request names another tenant than its message"
                continue
            requests[index] = request
        return requests

    async def _load_targets(self, requests: dict[int, MintRequest]) -> dict[uuid.UUID, MintTarget]:
        assert self._pool is not None
        ticket_ids_by_tenant: dict[uuid.UUID, list[uuid.UUID]] = {}
        for request in requests.values():
            ticket_ids_by_tenant.setdefault(request.tenant_id, []).append(request.ticket_id)
        targets: dict[uuid.UUID, MintTarget] = {}
        for tenant_id, ticket_ids in ticket_ids_by_tenant.items():
            async with tenant_transaction(self._pool, tenant_id) as connection:
                targets.update(await load_mint_targets(connection, ticket_ids=ticket_ids))
        return targets

    def _order(self, request: MintRequest, target: MintTarget) -> MintOrder:
        assert self._custody is not None
        owner = self._custody.owner_address(
            request.tenant_id, target.owner_user_id, target.registered_address
        )
        return MintOrder(request=request, owner_address=str(owner))
