"""The chain is never on the way in, over real HTTP with the session's embedded chain stopped: a
paid ticket admits and transfers at once, its NFT follows when the chain is back and ends with
whoever holds the ticket, and a mint that ran out of its quick retries is failed work that the
venue sees, retries, and sees land."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from solders.pubkey import Pubkey

from actors.names import local_chain_name
from actors.solana_chain import ActorChain
from engine import limits
from gateway.auth import Role
from minting.custody import Custody
from minting.transactions import holder_account_address
from tests.gateway.chain_outage import (
    chain_down,
    chain_work_drained,
    is_minted,
    mint_of,
    mint_out_of_quick_retries,
    start_chain,
    until,
)
from tests.gateway.http_journeys import (
    MINT_POLL_INTERVAL_S,
    MINT_POLLS_MAX,
    CreatedEvent,
    Fan,
    error_code,
)
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import Venue, code_of, ticket_of
from tests.minting.chain_reads import read_nft


@pytest.fixture
async def owner(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


@pytest.fixture
def venue(stack: Stack) -> Venue:
    return Venue(stack)


@pytest.fixture
async def event(venue: Venue) -> CreatedEvent:
    return await venue.event(general_capacity=20, seat_rows=0)


@pytest.fixture
async def chain_stopped(stack: Stack, owner: asyncpg.Connection) -> AsyncIterator[None]:
    await chain_work_drained(owner)
    with chain_down(stack):
        yield


async def transfer_of(owner: asyncpg.Connection, from_ticket_id: str) -> asyncpg.Record:
    row = await owner.fetchrow(
        "SELECT status, to_address, last_error FROM ticket_transfers WHERE from_ticket_id = $1",
        uuid.UUID(from_ticket_id),
    )
    assert row is not None
    return row


async def test_a_ticket_admits_and_transfers_before_its_nft_lands_and_the_nft_follows(
    stack: Stack,
    venue: Venue,
    event: CreatedEvent,
    owner: asyncpg.Connection,
    chain_stopped: None,
) -> None:
    giver, recipient = Fan(stack, event), Fan(stack, event)
    order = await giver.purchase(2)
    kept, given = order["tickets"]
    assert [ticket["status"] for ticket in order["tickets"]] == ["valid", "valid"]
    assert {ticket["mint"]["status"] for ticket in order["tickets"]} == {"pending"}

    kept_code = await code_of(giver, kept["ticket_id"])
    admitted = await venue.scan(event, kept_code)
    replayed = await venue.scan(event, kept_code)
    async with giver.client() as client:
        transferred = await client.post(
            f"/v1/tickets/{given['ticket_id']}/transfer",
            json={"to_user_id": recipient.user_id, "to_tenant_id": str(recipient.tenant_id)},
        )
    assert transferred.status_code == 200, transferred.text
    received = transferred.json()
    admitted_recipient = await venue.scan(event, await code_of(recipient, received["ticket_id"]))

    assert admitted.json()["result"] == "admitted", admitted.text
    assert (replayed.json()["result"], replayed.json()["reason"]) == (
        "rejected",
        "already_checked_in",
    )
    assert (received["status"], received["mint"]["status"]) == ("valid", "pending")
    assert admitted_recipient.json()["result"] == "admitted", admitted_recipient.text
    assert (await mint_of(owner, given["ticket_id"]))["status"] != "minted"

    start_chain(stack)

    async def nft_moved() -> bool:
        return (await transfer_of(owner, given["ticket_id"]))["status"] != "pending"

    async def kept_minted() -> bool:
        return await is_minted(owner, kept["ticket_id"])

    await until(nft_moved, owner, venue.tenant_id, "the given ticket's NFT move")
    await until(kept_minted, owner, venue.tenant_id, "the kept ticket's mint")
    custody = Custody(stack.parts.custody_seed)
    recipient_wallet = str(custody.fan_keypair(venue.tenant_id, recipient.caller).pubkey())
    giver_wallet = str(custody.fan_keypair(venue.tenant_id, giver.caller).pubkey())
    transfer = await transfer_of(owner, given["ticket_id"])
    assert (transfer["status"], transfer["to_address"]) == ("transferred", recipient_wallet)
    chain = ActorChain(local_chain_name(str(stack.outside.solana_directory)))
    given_mint = (await mint_of(owner, given["ticket_id"]))["mint_address"]
    nft = await read_nft(chain, given_mint, recipient_wallet)
    assert (nft.mint.supply, nft.holder.owner, nft.holder.amount) == (1, recipient_wallet, 1)
    [giver_account] = await chain.get_accounts(
        [holder_account_address(Pubkey.from_string(giver_wallet), Pubkey.from_string(given_mint))]
    )
    if giver_account is not None:
        assert (await read_nft(chain, given_mint, giver_wallet)).holder.amount == 0
    kept_nft = await read_nft(
        chain, (await mint_of(owner, kept["ticket_id"]))["mint_address"], giver_wallet
    )
    assert (kept_nft.mint.supply, kept_nft.holder.amount) == (1, 1)
    seen = await ticket_of(recipient, received["ticket_id"])
    assert (seen["mint"]["status"], seen["mint"]["mint_address"]) == ("minted", given_mint)


async def test_a_mint_out_of_retries_is_failed_work_the_venue_retries_and_sees_land(
    stack: Stack,
    venue: Venue,
    event: CreatedEvent,
    owner: asyncpg.Connection,
    chain_stopped: None,
) -> None:
    fan = Fan(stack, event)
    [ticket] = (await fan.purchase(1))["tickets"]
    failed_work_path = f"/v1/venue/events/{event.event_id}/failed-work"

    await mint_out_of_quick_retries(owner, venue.tenant_id, ticket["ticket_id"])
    async with stack.client(venue.manager_token) as manager:
        listed = await manager.get(failed_work_path)
        stats = await manager.get(f"/v1/venue/events/{event.event_id}/stats")
    admitted = await venue.scan(event, await code_of(fan, ticket["ticket_id"]))

    assert listed.status_code == 200, listed.text
    [work] = listed.json()["failed_work"]
    assert (work["kind"], work["status"], work["ticket_id"]) == (
        "mint",
        "failed",
        ticket["ticket_id"],
    )
    assert work["attempts"] >= limits.OUTBOX_ATTEMPTS_MAX
    assert "local chain" in work["last_error"]
    assert work["failed_at"] is not None and work["next_attempt_at"] is not None
    assert (await ticket_of(fan, ticket["ticket_id"]))["mint"]["status"] == "failed"
    assert stats.json()["mints"]["failed"] == 1
    assert admitted.json()["result"] == "admitted", admitted.text

    other_venue = Venue(stack)
    async with stack.client(other_venue.manager_token) as stranger:
        foreign_list = await stranger.get(failed_work_path)
        foreign_retry = await stranger.post(f"/v1/venue/failed-work/{work['id']}/retry")
    async with stack.client(venue.staff_token) as staff:
        staff_retry = await staff.post(f"/v1/venue/failed-work/{work['id']}/retry")
    assert (foreign_list.status_code, error_code(foreign_list)) == (404, "NOT_FOUND")
    assert (foreign_retry.status_code, error_code(foreign_retry)) == (404, "NOT_FOUND")
    assert (staff_retry.status_code, error_code(staff_retry)) == (403, "FORBIDDEN")
    assert (await mint_of(owner, ticket["ticket_id"]))["status"] == "failed"

    start_chain(stack)
    await owner.execute(
        "UPDATE outbox SET available_at = now() + interval '1 hour' WHERE aggregate_id = $1",
        ticket["ticket_id"],
    )
    async with stack.client(venue.manager_token) as manager:
        retried = await manager.post(f"/v1/venue/failed-work/{work['id']}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["id"] == work["id"]

    async def landed() -> bool:
        return await is_minted(owner, ticket["ticket_id"])

    for _ in range(MINT_POLLS_MAX):
        if await landed():
            break
        await asyncio.sleep(MINT_POLL_INTERVAL_S)
    assert await landed(), "the retried mint never landed"
    async with stack.client(venue.manager_token) as manager:
        after = await manager.get(failed_work_path)
        again = await manager.post(f"/v1/venue/failed-work/{work['id']}/retry")
    assert after.json()["failed_work"] == []
    assert (again.status_code, again.json()["status"]) == (202, "done")
    minted = await ticket_of(fan, ticket["ticket_id"])
    assert (minted["status"], minted["mint"]["status"]) == ("checked_in", "minted")


async def test_failed_work_is_for_venue_managers_and_names_nothing_unknown(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    async with stack.client(venue.manager_token) as manager:
        empty = await manager.get(f"/v1/venue/events/{event.event_id}/failed-work")
        unknown = await manager.post(f"/v1/venue/failed-work/{uuid.uuid4()}/retry")
        not_an_id = await manager.post("/v1/venue/failed-work/not-an-id/retry")
        too_many = await manager.get(
            f"/v1/venue/events/{event.event_id}/failed-work",
            params={"limit": limits.FAILED_WORK_LISTED_MAX + 1},
        )
    async with stack.client(stack.token(roles=(Role.FAN,))) as fan:
        by_fan = await fan.get(f"/v1/venue/events/{event.event_id}/failed-work")

    assert empty.status_code == 200 and empty.json() == {
        "event_id": event.event_id,
        "failed_work": [],
    }
    assert (unknown.status_code, error_code(unknown)) == (404, "NOT_FOUND")
    assert (not_an_id.status_code, error_code(not_an_id)) == (404, "NOT_FOUND")
    assert (too_many.status_code, error_code(too_many)) == (422, "VALIDATION_ERROR")
    assert (by_fan.status_code, error_code(by_fan)) == (403, "FORBIDDEN")
