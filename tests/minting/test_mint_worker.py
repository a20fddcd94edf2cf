"""The mint worker on real Postgres and the real Token-2022 program: a delivered ticket gets its NFT
complete on chain, once, whatever failed on the way; the ticket is valid all along."""

import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import msgspec
import pytest
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.rent import Rent
from solders.transaction import Transaction

from actors.mint_worker import MintWorker
from engine import limits
from minting.chain import ChainBackend, ChainError, SentTransaction
from minting.custody import Custody
from minting.local_chain import LocalChain
from minting.requests import MintRequest
from persistence.pool import service_url
from persistence.tenancy import tenant_transaction
from tests.minting.chain_reads import nfts_of_ticket, read_nft
from tests.minting.conftest import CUSTODY_SEED
from tests.minting.sales import issue_tickets, mint_message, mint_row


class ChainInTheMiddle:
    """A ChainBackend that passes every call to a real chain and counts the sends."""

    def __init__(self, chain: ChainBackend) -> None:
        self.chain = chain
        self.sends = 0

    async def latest_blockhash(self) -> Hash:
        return await self.chain.latest_blockhash()

    async def rent(self) -> Rent:
        return await self.chain.rent()

    async def get_accounts(self, addresses: Sequence[Pubkey]) -> list[Account | None]:
        return await self.chain.get_accounts(addresses)

    async def creation_signatures(self, addresses: Sequence[Pubkey]) -> list[str | None]:
        return await self.chain.creation_signatures(addresses)

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        self.sends += len(transactions)
        return await self.chain.send_transactions(transactions)


class AnswerLostAfterLanding(ChainInTheMiddle):
    """The transactions land, then the connection drops before the answer arrives."""

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        await super().send_transactions(transactions)
        raise ChainError("connection reset after sending")


class UnreachableOnSend(ChainInTheMiddle):
    """Reads work; every send fails before anything reaches the chain."""

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        raise ChainError("connection refused")


@pytest.fixture
def chain(local_chain: LocalChain) -> ChainInTheMiddle:
    return ChainInTheMiddle(local_chain)


def worker_on(database_url: str, chain: ChainBackend, authority: Keypair) -> MintWorker:
    return MintWorker(
        database_url=service_url(database_url),
        chain=chain,
        authority_key=str(authority),
        custody_seed=CUSTODY_SEED,
    )


@pytest.fixture
async def worker(
    migrated_database_url: str, chain: ChainInTheMiddle, authority: Keypair
) -> AsyncIterator[MintWorker]:
    worker = worker_on(migrated_database_url, chain, authority)
    yield worker
    await worker.close()


@pytest.fixture
async def request_for_seat(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> MintRequest:
    (request,) = await issue_tickets(service_pool, owner_connection, 1)
    return request


async def test_ticket_is_valid_and_its_nft_complete_on_chain_when_minted(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    owner_connection: asyncpg.Connection,
    request_for_seat: MintRequest,
    custody: Custody,
    authority: Keypair,
) -> None:
    request = request_for_seat

    answers = await worker.deliver([mint_message(request)])

    row = await mint_row(owner_connection, request.ticket_id)
    fan_wallet = custody.fan_keypair(request.tenant_id, request.owner_user_id).pubkey()
    mint_address = custody.mint_keypair(request.ticket_id).pubkey()
    assert answers == [None]
    assert row["ticket_status"] == "valid"
    assert row["status"] == "minted"
    assert row["attempts"] == 1
    assert row["owner_address"] == str(fan_wallet)
    assert row["mint_address"] == str(mint_address)
    assert (await chain.creation_signatures([mint_address])) == [row["signature"]]
    nft = await read_nft(chain, str(mint_address), str(fan_wallet))
    assert nft.mint.supply == 1
    assert nft.mint.decimals == 0
    assert nft.mint.is_initialized
    assert nft.mint.mint_authority is None
    assert nft.mint.freeze_authority is None
    assert nft.mint.metadata_pointer == str(mint_address)
    assert nft.holder.amount == 1
    assert nft.holder.owner == str(fan_wallet)
    assert nft.holder.mint == str(mint_address)
    metadata = nft.mint.metadata
    assert metadata is not None
    assert metadata.mint == str(mint_address)
    assert metadata.update_authority == str(authority.pubkey())
    assert metadata.name == "Night One · 101-A-7"
    assert metadata.symbol == "TICKET"
    assert metadata.uri == f"urn:uuid:{request.ticket_id}"
    assert dict(metadata.additional_metadata) == {
        "event": "Night One",
        "ticket_type": "Floor",
        "seat": "101-A-7",
        "ticket": str(request.ticket_id),
    }


async def test_nothing_changes_when_a_minted_ticket_is_delivered_again(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    owner_connection: asyncpg.Connection,
    request_for_seat: MintRequest,
) -> None:
    request = request_for_seat
    await worker.deliver([mint_message(request)])
    row_before = await mint_row(owner_connection, request.ticket_id)
    mint_address = Pubkey.from_string(str(row_before["mint_address"]))
    accounts_before = await chain.get_accounts([mint_address])
    sends_before = chain.sends

    answers = await worker.deliver([mint_message(request, attempts=1)])

    assert answers == [None]
    assert await mint_row(owner_connection, request.ticket_id) == row_before
    assert await chain.get_accounts([mint_address]) == accounts_before
    assert chain.sends == sends_before


async def test_one_nft_is_recorded_when_the_send_landed_but_its_answer_was_lost(
    migrated_database_url: str,
    local_chain: LocalChain,
    owner_connection: asyncpg.Connection,
    request_for_seat: MintRequest,
    authority: Keypair,
) -> None:
    request = request_for_seat
    losing = worker_on(migrated_database_url, AnswerLostAfterLanding(local_chain), authority)
    retrying = worker_on(migrated_database_url, ChainInTheMiddle(local_chain), authority)
    try:
        first_answers = await losing.deliver([mint_message(request)])
        row_after_loss = await mint_row(owner_connection, request.ticket_id)
        second_answers = await retrying.deliver([mint_message(request, attempts=1)])
    finally:
        await losing.close()
        await retrying.close()

    row = await mint_row(owner_connection, request.ticket_id)
    mint_address = Pubkey.from_string(str(row["mint_address"]))
    assert first_answers[0] is not None and "connection reset" in first_answers[0]
    assert row_after_loss["status"] == "pending"
    assert row_after_loss["ticket_status"] == "valid"
    assert row_after_loss["attempts"] == 1
    assert second_answers == [None]
    assert row["status"] == "minted"
    assert row["ticket_status"] == "valid"
    assert row["attempts"] == 2
    assert (await local_chain.creation_signatures([mint_address])) == [row["signature"]]
    nfts = await nfts_of_ticket(local_chain, request.ticket_id)
    assert [(nft.supply, nft.mint_authority) for nft in nfts] == [(1, None)]


async def test_nft_is_minted_on_retry_when_the_chain_failed_before_sending(
    migrated_database_url: str,
    local_chain: LocalChain,
    owner_connection: asyncpg.Connection,
    request_for_seat: MintRequest,
    custody: Custody,
    authority: Keypair,
) -> None:
    request = request_for_seat
    failing = worker_on(migrated_database_url, UnreachableOnSend(local_chain), authority)
    retrying = worker_on(migrated_database_url, ChainInTheMiddle(local_chain), authority)
    mint_address = custody.mint_keypair(request.ticket_id).pubkey()
    try:
        first_answers = await failing.deliver([mint_message(request)])
        row_after_failure = await mint_row(owner_connection, request.ticket_id)
        accounts_after_failure = await local_chain.get_accounts([mint_address])
        second_answers = await retrying.deliver([mint_message(request, attempts=1)])
    finally:
        await failing.close()
        await retrying.close()

    row = await mint_row(owner_connection, request.ticket_id)
    assert first_answers[0] is not None and "connection refused" in first_answers[0]
    assert row_after_failure["status"] == "pending"
    assert row_after_failure["last_error"] == "connection refused"
    assert accounts_after_failure == [None]
    assert second_answers == [None]
    assert row["status"] == "minted"
    assert row["attempts"] == 2
    assert row["mint_address"] == str(mint_address)
    assert len(await nfts_of_ticket(local_chain, request.ticket_id)) == 1


async def test_mint_shows_failed_and_still_lands_when_its_quick_attempts_are_spent(
    migrated_database_url: str,
    local_chain: LocalChain,
    owner_connection: asyncpg.Connection,
    request_for_seat: MintRequest,
    authority: Keypair,
) -> None:
    request = request_for_seat
    failing = worker_on(migrated_database_url, UnreachableOnSend(local_chain), authority)
    retrying = worker_on(migrated_database_url, ChainInTheMiddle(local_chain), authority)
    try:
        answers = await failing.deliver(
            [mint_message(request, attempts=limits.OUTBOX_ATTEMPTS_MAX - 1)]
        )
        failed = await mint_row(owner_connection, request.ticket_id)
        later = await retrying.deliver([mint_message(request, attempts=limits.OUTBOX_ATTEMPTS_MAX)])
    finally:
        await failing.close()
        await retrying.close()

    assert answers == ["connection refused"]
    assert failed["status"] == "failed"
    assert failed["ticket_status"] == "valid"
    assert failed["last_error"] == "connection refused"
    assert failed["mint_address"] is None
    assert later == [None]
    landed = await mint_row(owner_connection, request.ticket_id)
    assert (landed["status"], landed["ticket_status"]) == ("minted", "valid")
    assert len(await nfts_of_ticket(local_chain, request.ticket_id)) == 1


async def test_registered_wallet_gets_the_nft_when_the_fan_has_one(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    request_for_seat: MintRequest,
) -> None:
    request = request_for_seat
    own_wallet = Keypair().pubkey()
    async with tenant_transaction(service_pool, request.tenant_id) as connection:
        await connection.execute(
            "INSERT INTO fan_wallets (tenant_id, user_id, address) VALUES ($1, $2, $3)",
            request.tenant_id,
            request.owner_user_id,
            str(own_wallet),
        )

    answers = await worker.deliver([mint_message(request)])

    row = await mint_row(owner_connection, request.ticket_id)
    nft = await read_nft(chain, str(row["mint_address"]), str(own_wallet))
    assert answers == [None]
    assert row["owner_address"] == str(own_wallet)
    assert nft.holder.amount == 1
    assert nft.holder.owner == str(own_wallet)


async def test_no_nft_is_minted_when_the_ticket_was_refunded_first(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    owner_connection: asyncpg.Connection,
    request_for_seat: MintRequest,
) -> None:
    request = request_for_seat
    await owner_connection.execute(
        "UPDATE tickets SET status = 'refunded' WHERE id = $1", request.ticket_id
    )

    answers = await worker.deliver([mint_message(request)])

    row = await mint_row(owner_connection, request.ticket_id)
    assert answers == [None]
    assert row["status"] == "failed"
    assert row["last_error"] == "the ticket is refunded: no NFT"
    assert chain.sends == 0


async def test_every_ticket_of_a_batch_is_minted_when_it_spans_tenants_and_chunks(
    worker: MintWorker,
    chain: ChainInTheMiddle,
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
) -> None:
    first = await issue_tickets(
        service_pool, owner_connection, limits.MINTS_PER_CHAIN_BATCH_MAX, seats=(None,)
    )
    second = await issue_tickets(service_pool, owner_connection, 3, tenant_name="Tenant B")
    unknown = mint_message(msgspec.structs.replace(second[0], ticket_id=uuid.uuid4()))

    answers = await worker.deliver(
        [mint_message(request) for request in first + second] + [unknown]
    )

    statuses = await owner_connection.fetch(
        "SELECT status, count(*) AS mints FROM nft_mints GROUP BY status"
    )
    assert answers[:-1] == [None] * (len(first) + len(second))
    assert answers[-1] is not None and "was not found" in answers[-1]
    assert {row["status"]: row["mints"] for row in statuses} == {"minted": len(first) + len(second)}
    assert chain.sends == len(first) + len(second)
