"""A ticket given away before its NFT lands ends with exactly one NFT, in the wallet of whoever
holds the ticket, whatever order the mint and the move run in and whichever attempt was lost: on
real Postgres and the real Token-2022 program, through the mint worker that consumes both topics."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import asyncpg
import msgspec
import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import Transaction

import actors.mint_worker
from actors.mint_worker import MintWorker
from engine.tickets import TicketAction, TicketMoved, TicketStatus, move_ticket
from engine.transfers import TransferRefusal, check_transfer
from minting.chain import SentTransaction
from minting.custody import Custody
from minting.local_chain import LocalChain
from minting.requests import MintRequest
from minting.transactions import holder_account_address
from minting.transfer_requests import TRANSFER_TOPIC, TransferRequest
from persistence.outbox import OutboxMessage
from persistence.tenancy import tenant_transaction
from persistence.ticket_transfers import give_ticket, lock_transfer_subject
from services.transfers import transfer_case
from tests.minting.chain_reads import nfts_of_ticket, read_nft
from tests.minting.sales import FAN, issue_tickets, mint_message, mint_row
from tests.minting.test_mint_worker import (
    AnswerLostAfterLanding,
    ChainInTheMiddle,
    worker_on,
)

RECIPIENT = "fan-2"
LATER_RECIPIENT = "fan-3"
NOW_MS = 2_000_000_000_000


class SendAfter(ChainInTheMiddle):
    """Runs `first` (a transfer committing while the mint is on its way) before its first send."""

    def __init__(self, chain: LocalChain, first: Callable[[], Awaitable[None]]) -> None:
        super().__init__(chain)
        self.first: Callable[[], Awaitable[None]] | None = first

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        if self.first is not None:
            first, self.first = self.first, None
            await first()
        return await super().send_transactions(transactions)


@pytest.fixture
async def request_for_ticket(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> MintRequest:
    (request,) = await issue_tickets(service_pool, owner_connection, 1)
    return request


@pytest.fixture
def chain(local_chain: LocalChain) -> ChainInTheMiddle:
    return ChainInTheMiddle(local_chain)


@pytest.fixture
async def worker(
    migrated_database_url: str, chain: ChainInTheMiddle, authority: Keypair
) -> AsyncIterator[MintWorker]:
    worker = worker_on(migrated_database_url, chain, authority)
    yield worker
    await worker.close()


async def give(
    service_pool: asyncpg.Pool,
    request: MintRequest,
    ticket_id: uuid.UUID,
    recipient_id: str,
    *,
    obeying_the_rules: bool = False,
) -> tuple[uuid.UUID, uuid.UUID] | TransferRefusal:
    """Give the ticket as the transfer endpoint does: its transfer and the recipient's ticket, or
    (`obeying_the_rules`) the refusal of the transfer rules."""
    new_ticket_id = uuid.uuid4()
    async with tenant_transaction(service_pool, request.tenant_id) as connection:
        subject = await lock_transfer_subject(connection, ticket_id)
        assert subject is not None
        if obeying_the_rules:
            case = transfer_case(subject, recipient_id=recipient_id, transfers_in_window=0)
            refusal = check_transfer(case, NOW_MS)
            if refusal is not None:
                return refusal
        moved = move_ticket(TicketStatus(subject.status), TicketAction.TRANSFER)
        assert isinstance(moved, TicketMoved)
        transfer_id = await give_ticket(
            connection,
            subject=subject,
            moved=moved,
            recipient_id=recipient_id,
            new_ticket_id=new_ticket_id,
        )
    return transfer_id, new_ticket_id


def transfer_message(request: MintRequest, transfer_id: uuid.UUID) -> OutboxMessage:
    payload = TransferRequest(
        transfer_id=transfer_id,
        tenant_id=request.tenant_id,
        event_id=request.event_id,
        nft_ticket_id=request.ticket_id,
    )
    return OutboxMessage(
        message_id=uuid.uuid4(),
        position=2,
        tenant_id=request.tenant_id,
        topic=TRANSFER_TOPIC,
        aggregate_id=str(request.ticket_id),
        payload=msgspec.json.encode(payload).decode(),
        attempts=0,
    )


async def transfer_row(owner: asyncpg.Connection, transfer_id: uuid.UUID) -> asyncpg.Record:
    row = await owner.fetchrow(
        "SELECT status, to_address, last_error FROM ticket_transfers WHERE id = $1", transfer_id
    )
    assert row is not None
    return row


def wallet(custody: Custody, request: MintRequest, user_id: str) -> str:
    return str(custody.fan_keypair(request.tenant_id, user_id).pubkey())


async def assert_one_nft_held_by(
    chain: LocalChain, custody: Custody, request: MintRequest, holder: str, others: Sequence[str]
) -> None:
    """Exactly one NFT of the ticket exists on chain, in `holder`'s wallet and nobody else's."""
    assert len(await nfts_of_ticket(chain, request.ticket_id)) == 1
    mint_address = custody.mint_keypair(request.ticket_id).pubkey()
    nft = await read_nft(chain, str(mint_address), holder)
    assert (nft.holder.owner, nft.holder.amount, nft.mint.supply) == (holder, 1, 1)
    for other in others:
        [account] = await chain.get_accounts(
            [holder_account_address(Pubkey.from_string(other), mint_address)]
        )
        if account is not None:
            assert (await read_nft(chain, str(mint_address), other)).holder.amount == 0


async def test_nft_is_minted_straight_to_the_recipient_when_the_ticket_changed_hands_first(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    local_chain: LocalChain,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
    custody: Custody,
) -> None:
    request = request_for_ticket
    given = await give(service_pool, request, request.ticket_id, RECIPIENT)
    assert not isinstance(given, TransferRefusal)
    transfer_id, _ = given

    minted = await worker.deliver([mint_message(request)])
    moved = await worker.deliver([transfer_message(request, transfer_id)])

    recipient_wallet = wallet(custody, request, f"{RECIPIENT}")
    assert minted == [None] and moved == [None]
    assert (await mint_row(owner_connection, request.ticket_id))["owner_address"] == (
        recipient_wallet
    )
    transfer = await transfer_row(owner_connection, transfer_id)
    assert (transfer["status"], transfer["to_address"]) == ("transferred", recipient_wallet)
    assert chain.sends == 1
    await assert_one_nft_held_by(
        local_chain, custody, request, recipient_wallet, [wallet(custody, request, FAN)]
    )


async def test_nft_minted_to_the_giver_moves_on_when_the_transfer_commits_during_the_mint(
    migrated_database_url: str,
    local_chain: LocalChain,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
    custody: Custody,
    authority: Keypair,
) -> None:
    request = request_for_ticket
    transfers: list[uuid.UUID] = []

    async def transfer_now() -> None:
        given = await give(service_pool, request, request.ticket_id, RECIPIENT)
        assert not isinstance(given, TransferRefusal)
        transfers.append(given[0])

    racing = SendAfter(local_chain, transfer_now)
    worker = worker_on(migrated_database_url, racing, authority)
    try:
        minted = await worker.deliver([mint_message(request)])
        recorded_holder = (await mint_row(owner_connection, request.ticket_id))["owner_address"]
        moved = await worker.deliver([transfer_message(request, transfers[0])])
    finally:
        await worker.close()

    giver_wallet = wallet(custody, request, FAN)
    recipient_wallet = wallet(custody, request, RECIPIENT)
    assert minted == [None] and moved == [None]
    assert recorded_holder == giver_wallet
    assert racing.sends == 2
    transfer = await transfer_row(owner_connection, transfers[0])
    assert (transfer["status"], transfer["to_address"]) == ("transferred", recipient_wallet)
    await assert_one_nft_held_by(local_chain, custody, request, recipient_wallet, [giver_wallet])


async def test_nft_found_with_the_giver_moves_on_when_its_mint_answer_was_lost_before_a_transfer(
    migrated_database_url: str,
    local_chain: LocalChain,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
    custody: Custody,
    authority: Keypair,
) -> None:
    request = request_for_ticket
    losing_chain = AnswerLostAfterLanding(local_chain)
    retrying_chain = ChainInTheMiddle(local_chain)
    losing = worker_on(migrated_database_url, losing_chain, authority)
    retrying = worker_on(migrated_database_url, retrying_chain, authority)
    try:
        lost = await losing.deliver([mint_message(request)])
        given = await give(service_pool, request, request.ticket_id, RECIPIENT)
        assert not isinstance(given, TransferRefusal)
        minted = await retrying.deliver([mint_message(request, attempts=1)])
        recorded_holder = (await mint_row(owner_connection, request.ticket_id))["owner_address"]
        moved = await retrying.deliver([transfer_message(request, given[0])])
    finally:
        await losing.close()
        await retrying.close()

    giver_wallet = wallet(custody, request, FAN)
    recipient_wallet = wallet(custody, request, RECIPIENT)
    assert lost[0] is not None and "connection reset" in lost[0]
    assert minted == [None] and moved == [None]
    assert recorded_holder == giver_wallet
    assert (losing_chain.sends, retrying_chain.sends) == (1, 1)
    await assert_one_nft_held_by(local_chain, custody, request, recipient_wallet, [giver_wallet])


async def test_nft_goes_to_the_last_holder_when_the_ticket_changed_hands_twice_before_its_mint(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    local_chain: LocalChain,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
    custody: Custody,
) -> None:
    request = request_for_ticket
    first = await give(service_pool, request, request.ticket_id, RECIPIENT)
    assert not isinstance(first, TransferRefusal)
    second = await give(service_pool, request, first[1], LATER_RECIPIENT)
    assert not isinstance(second, TransferRefusal)

    minted = await worker.deliver([mint_message(request)])
    moved = await worker.deliver(
        [transfer_message(request, first[0]), transfer_message(request, second[0])]
    )

    last_wallet = wallet(custody, request, LATER_RECIPIENT)
    assert minted == [None] and moved == [None, None]
    assert chain.sends == 1
    for transfer_id in (first[0], second[0]):
        transfer = await transfer_row(owner_connection, transfer_id)
        assert (transfer["status"], transfer["to_address"]) == ("transferred", last_wallet)
    await assert_one_nft_held_by(
        local_chain,
        custody,
        request,
        last_wallet,
        [wallet(custody, request, FAN), wallet(custody, request, RECIPIENT)],
    )


async def test_transfer_waits_when_it_is_delivered_before_its_nft_is_minted(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
) -> None:
    request = request_for_ticket
    given = await give(service_pool, request, request.ticket_id, RECIPIENT)
    assert not isinstance(given, TransferRefusal)

    [answer] = await worker.deliver([transfer_message(request, given[0])])

    assert answer == "the ticket's NFT is not minted yet"
    assert (await transfer_row(owner_connection, given[0]))["status"] == "pending"
    assert chain.sends == 0


async def test_transfer_settles_with_nothing_to_move_when_the_ticket_ended_before_its_mint(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
) -> None:
    request = request_for_ticket
    given = await give(service_pool, request, request.ticket_id, RECIPIENT)
    assert not isinstance(given, TransferRefusal)
    await owner_connection.execute("UPDATE tickets SET status = 'refunded' WHERE id = $1", given[1])

    minted = await worker.deliver([mint_message(request)])
    moved = await worker.deliver([transfer_message(request, given[0])])

    assert minted == [None] and moved == [None]
    assert (await mint_row(owner_connection, request.ticket_id))["status"] == "failed"
    transfer = await transfer_row(owner_connection, given[0])
    assert transfer["status"] == "failed"
    assert transfer["last_error"] == "the ticket is refunded: it has no NFT to move"
    assert chain.sends == 0


async def race_a_transfer_with_a_mint_to_the_givers_own_wallet(
    migrated_database_url: str,
    local_chain: LocalChain,
    service_pool: asyncpg.Pool,
    request: MintRequest,
    authority: Keypair,
) -> tuple[TransferRefusal | None, list[str | None]]:
    """The giver registered a wallet; a transfer is tried while the mint is on its way there. What
    the transfer rules said, and what the NFT's move answered (nothing when it was refused)."""
    own_wallet = str(Keypair().pubkey())
    async with tenant_transaction(service_pool, request.tenant_id) as connection:
        await connection.execute(
            "INSERT INTO fan_wallets (tenant_id, user_id, address) VALUES ($1, $2, $3)",
            request.tenant_id,
            FAN,
            own_wallet,
        )
    outcome: list[tuple[uuid.UUID, uuid.UUID] | TransferRefusal] = []

    async def transfer_now() -> None:
        outcome.append(
            await give(service_pool, request, request.ticket_id, RECIPIENT, obeying_the_rules=True)
        )

    worker = worker_on(migrated_database_url, SendAfter(local_chain, transfer_now), authority)
    try:
        assert await worker.deliver([mint_message(request)]) == [None]
        [given] = outcome
        if isinstance(given, TransferRefusal):
            return given, []
        return None, await worker.deliver([transfer_message(request, given[0])])
    finally:
        await worker.close()


async def test_a_transfer_racing_a_mint_to_the_givers_own_wallet_strands_the_nft_unguarded(
    migrated_database_url: str,
    local_chain: LocalChain,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
    authority: Keypair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_claim(*_: object, **__: object) -> None:
        return None

    monkeypatch.setattr(actors.mint_worker, "claim_mint_owners", no_claim)

    refusal, moved = await race_a_transfer_with_a_mint_to_the_givers_own_wallet(
        migrated_database_url, local_chain, service_pool, request_for_ticket, authority
    )

    assert refusal is None and moved == [None]
    failed = await owner_connection.fetchrow(
        "SELECT status, last_error FROM ticket_transfers WHERE nft_ticket_id = $1",
        request_for_ticket.ticket_id,
    )
    assert failed is not None
    assert (failed["status"], failed["last_error"]) == (
        "failed",
        "the NFT is in a wallet the platform cannot sign for",
    )


async def test_a_transfer_racing_a_mint_to_the_givers_own_wallet_is_refused_when_guarded(
    migrated_database_url: str,
    local_chain: LocalChain,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_ticket: MintRequest,
    authority: Keypair,
) -> None:
    refusal, moved = await race_a_transfer_with_a_mint_to_the_givers_own_wallet(
        migrated_database_url, local_chain, service_pool, request_for_ticket, authority
    )

    assert refusal is TransferRefusal.OWN_WALLET and moved == []
    ticket_status = await owner_connection.fetchval(
        "SELECT status FROM tickets WHERE id = $1", request_for_ticket.ticket_id
    )
    assert ticket_status == "valid"
