"""Consumes the `mint.ticket` topic of the outbox: mints each issued ticket's NFT to whoever holds
the ticket now and records it; and the `transfer.ticket` topic, through `TransferDelivery`, with
the same chain, keys and pool.

A batch costs two transactions per tenant, one to read each ticket's line (persistence/nft_lines:
who holds it now, who held it before, their registered wallets) and claim the wallet its NFT goes
to, and one to record every outcome, and between them the chain calls of `TicketMinter`, which
reads the chain before it sends. A delivery is idempotent: a ticket whose mint is recorded is
skipped, and one minted but not recorded is found on chain, even in an earlier holder's wallet.
A failed mint counts an attempt and answers its error for the dispatcher to retry; once its quick
attempts are spent the mint shows as failed in the sale's figures and is retried as failed work
until it lands.
"""

import asyncio
import uuid
from collections.abc import Sequence

import asyncpg
import msgspec
from solders.keypair import Keypair

from actors.outbox_dispatcher import is_failed_work
from actors.transfer_delivery import TransferDelivery
from actors.void_delivery import VoidDelivery
from engine import limits
from engine.tickets import LIVE_STATUSES
from minting.chain import ChainBackend
from minting.custody import Custody
from minting.minter import MintFailed, MintOrder, TicketMinter
from minting.mover import TicketMover
from minting.requests import MINT_REQUEST_DECODER, MINT_TOPIC, MintRequest
from minting.transfer_requests import TRANSFER_TOPIC
from minting.void_requests import VOID_TOPIC
from minting.voider import TicketVoider
from persistence.mint_repository import (
    MintFailure,
    MintRecord,
    MintState,
    claim_mint_owners,
    load_mint_states,
    record_mints,
)
from persistence.nft_lines import NftLine, load_nft_lines
from persistence.outbox import OutboxMessage
from persistence.pool import create_pool
from persistence.tenancy import tenant_transaction

MINT_WORKER_POOL_SIZE_MAX = 2


def _cut(error: str) -> str:
    return error[: limits.MINT_ERROR_CHARACTERS_MAX]


class _Outcomes:
    """What one delivery has decided so far: each message's answer, each tenant's records."""

    def __init__(self, count: int) -> None:
        self.answers: list[str | None] = [None] * count
        self.minted: dict[uuid.UUID, list[MintRecord]] = {}
        self.failures: dict[uuid.UUID, list[MintFailure]] = {}

    def fail(self, index: int, message: OutboxMessage, ticket_id: uuid.UUID, error: str) -> None:
        """A mint that did not happen: retried, and shown as failed once it is failed work."""
        self.answers[index] = _cut(error)
        self.failures.setdefault(message.tenant_id, []).append(
            MintFailure(
                ticket_id=ticket_id,
                error=_cut(error),
                marks_failed=is_failed_work(message.attempts),
            )
        )

    def refuse(self, message: OutboxMessage, ticket_id: uuid.UUID, error: str) -> None:
        """A mint that must never happen: settled as failed, and the message is done."""
        self.failures.setdefault(message.tenant_id, []).append(
            MintFailure(ticket_id=ticket_id, error=_cut(error), marks_failed=True)
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
        self._voids: VoidDelivery | None = None
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
            self._voids = VoidDelivery(
                pool=pool, voider=TicketVoider(chain=self._chain, authority=authority)
            )
            self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def deliver(self, messages: list[OutboxMessage]) -> list[str | None]:
        """One answer per message: None when its ticket's NFT is minted, moved or marked void (or
        never will be), else the error to retry it for."""
        await self.start()
        assert self._transfers is not None and self._voids is not None
        answers: list[str | None] = [None] * len(messages)
        by_topic: dict[str, list[int]] = {TRANSFER_TOPIC: [], VOID_TOPIC: [], MINT_TOPIC: []}
        for index, message in enumerate(messages):
            by_topic.get(message.topic, by_topic[MINT_TOPIC]).append(index)
        for deliver, indexes in (
            (self._transfers.deliver, by_topic[TRANSFER_TOPIC]),
            (self._voids.deliver, by_topic[VOID_TOPIC]),
            (self._mint, by_topic[MINT_TOPIC]),
        ):
            if indexes:
                share = await deliver([messages[index] for index in indexes])
                for index, answer in zip(indexes, share, strict=True):
                    answers[index] = answer
        return answers

    async def _mint(self, messages: list[OutboxMessage]) -> list[str | None]:
        assert self._pool is not None and self._minter is not None
        outcomes = _Outcomes(len(messages))
        requests = self._read_requests(messages, outcomes)
        orders = await self._claim_orders(messages, requests, outcomes)
        ordered = list(orders)
        minted = await self._minter.mint([orders[index] for index in ordered])
        for index, outcome in zip(ordered, minted, strict=True):
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

    async def _claim_orders(
        self,
        messages: Sequence[OutboxMessage],
        requests: dict[int, MintRequest],
        outcomes: _Outcomes,
    ) -> dict[int, MintOrder]:
        """The mint to send for each message that needs one, its wallet claimed in Postgres."""
        assert self._pool is not None
        indexes_by_tenant: dict[uuid.UUID, list[int]] = {}
        for index, request in requests.items():
            indexes_by_tenant.setdefault(request.tenant_id, []).append(index)
        orders: dict[int, MintOrder] = {}
        for tenant_id, indexes in indexes_by_tenant.items():
            ticket_ids = [requests[index].ticket_id for index in indexes]
            async with tenant_transaction(self._pool, tenant_id) as connection:
                lines = await load_nft_lines(connection, ticket_ids)
                states = await load_mint_states(connection, ticket_ids=ticket_ids)
                for index in indexes:
                    order = self._decide(
                        index, messages[index], requests[index], lines, states, outcomes
                    )
                    if order is not None:
                        orders[index] = order
                await claim_mint_owners(
                    connection,
                    claims=[
                        (orders[index].request.ticket_id, orders[index].owner_address)
                        for index in indexes
                        if index in orders
                    ],
                )
        return dict(sorted(orders.items()))

    def _decide(
        self,
        index: int,
        message: OutboxMessage,
        request: MintRequest,
        lines: dict[uuid.UUID, NftLine],
        states: dict[uuid.UUID, MintState],
        outcomes: _Outcomes,
    ) -> MintOrder | None:
        """The mint to send for one request, or None with its answer set in `outcomes`."""
        line = lines.get(request.ticket_id)
        state = states.get(request.ticket_id)
        if line is None:
            outcomes.answers[index] = f"ticket {request.ticket_id} was not found"
            return None
        if state is not None and state.status == "minted":
            return None
        if line.current_status not in LIVE_STATUSES:
            outcomes.refuse(
                message, request.ticket_id, f"the ticket is {line.current_status}: no NFT"
            )
            return None
        try:
            return self._order(request, line, state)
        except ValueError as error:
            outcomes.fail(index, message, request.ticket_id, f"no wallet: {error}")
            return None

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

    def _order(self, request: MintRequest, line: NftLine, state: MintState | None) -> MintOrder:
        """The NFT goes to the line's holder now; an earlier attempt may have put it with an
        earlier holder, or with the wallet it claimed."""
        assert self._custody is not None
        holder = line.current_holder
        owner = self._custody.owner_address(
            request.tenant_id, holder.user_id, holder.registered_address
        )
        earlier: list[str | None] = [
            str(self._custody.fan_keypair(request.tenant_id, earlier.user_id).pubkey())
            for earlier in line.holders
        ]
        earlier += [earlier.registered_address for earlier in line.holders]
        if state is not None:
            earlier.append(state.owner_address)
        return MintOrder(
            request=request,
            owner_address=str(owner),
            earlier_holder_addresses=tuple(address for address in earlier if address is not None),
        )
