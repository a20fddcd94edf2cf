"""A fan's tickets over real HTTP: the listing paged across events of two tenants, one ticket and
its rotating code for its owner only, and a transfer that moves the NFT on the session's chain."""

import asyncio
import datetime
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from actors.names import local_chain_name
from actors.solana_chain import ActorChain
from engine import limits
from minting.custody import Custody
from tests.gateway.http_journeys import (
    MINT_POLL_INTERVAL_S,
    MINT_POLLS_MAX,
    CreatedEvent,
    Fan,
    error_code,
)
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import Venue, code_of, listed_tickets, ticket_of
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


async def test_listing_walks_every_ticket_once_newest_first_across_events_and_tenants(
    stack: Stack, event: CreatedEvent
) -> None:
    other_event = await Venue(stack).event(general_capacity=20, seat_rows=0)
    fan = Fan(stack, event)
    orders = [await fan.purchase(2), await fan.purchase(1)]
    fan.event = other_event
    orders.append(await fan.purchase(2))
    bought = {ticket["ticket_id"] for order in orders for ticket in order["tickets"]}

    walked = await listed_tickets(fan, limit="2")
    only_first_event = await listed_tickets(fan, event_id=event.event_id, limit="1")

    assert len(walked) == len(bought) == 5
    assert {ticket["ticket_id"] for ticket in walked} == bought
    order_keys = [(ticket["issued_at"], ticket["ticket_id"]) for ticket in walked]
    assert order_keys == sorted(order_keys, reverse=True)
    assert [ticket["order_id"] for ticket in walked[:2]] == [orders[2]["order_id"]] * 2
    assert {ticket["event_id"] for ticket in only_first_event} == {event.event_id}
    assert len(only_first_event) == 3
    assert await listed_tickets(fan, status="transferred") == []
    assert len(await listed_tickets(fan, limit="100")) == 5
    assert await listed_tickets(Fan(stack, event)) == []


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "x"},
        {"limit": "²"},
        {"limit": "1" * 5_000},
        {"status": "lost"},
        {"cursor": "%%"},
        {"cursor": "MTIz"},
        {"event_id": "not-a-uuid"},
    ],
)
async def test_listing_is_refused_when_its_query_is_malformed(
    stack: Stack, event: CreatedEvent, query: dict[str, str]
) -> None:
    async with Fan(stack, event).client() as client:
        answer = await client.get("/v1/me/tickets", params=query)

    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")


async def test_ticket_and_its_code_are_its_owners_alone(stack: Stack, event: CreatedEvent) -> None:
    fan, stranger = Fan(stack, event), Fan(stack, event)
    [ticket] = (await fan.buy(1))["tickets"]
    path = f"/v1/tickets/{ticket['ticket_id']}"

    async with fan.client() as client:
        own = await client.get(path)
        code = await client.get(f"{path}/qr")
    async with stranger.client() as client:
        foreign = await client.get(path)
        foreign_code = await client.get(f"{path}/qr")
        unknown = await client.get(f"/v1/tickets/{uuid.uuid4()}/qr")

    assert own.status_code == 200 and own.json() == ticket
    assert code.status_code == 200, code.text
    assert code.json()["payload"].startswith(f"tq2.{ticket['ticket_id']}.")
    assert code.json()["rotates_every_s"] <= 30
    expires_at = datetime.datetime.fromisoformat(code.json()["expires_at"])
    remaining = expires_at - datetime.datetime.now(datetime.UTC)
    assert (
        datetime.timedelta(0)
        < remaining
        <= datetime.timedelta(milliseconds=limits.QR_STEP_MS + 1_000)
    )
    for answer in (foreign, foreign_code, unknown):
        assert (answer.status_code, error_code(answer)) == (404, "NOT_FOUND")


async def transfer_moved(owner: asyncpg.Connection, from_ticket_id: str) -> asyncpg.Record:
    """The transfer once the chain has its outcome."""
    for _ in range(MINT_POLLS_MAX):
        transfer = await owner.fetchrow(
            "SELECT status, to_address, last_error FROM ticket_transfers WHERE from_ticket_id = $1",
            uuid.UUID(from_ticket_id),
        )
        if transfer is not None and transfer["status"] != "pending":
            return transfer
        await asyncio.sleep(MINT_POLL_INTERVAL_S)
    raise AssertionError(f"the NFT of {from_ticket_id} never moved")


async def test_transfer_moves_the_ticket_and_its_nft_to_the_recipient(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    giver, recipient = Fan(stack, event), Fan(stack, event)
    [ticket] = (await giver.buy(1))["tickets"]
    old_code = await code_of(giver, ticket["ticket_id"])
    path = f"/v1/tickets/{ticket['ticket_id']}/transfer"
    body = {"to_user_id": recipient.user_id, "to_tenant_id": str(recipient.tenant_id)}
    async with stack.client(venue.manager_token) as manager:
        forbidden = await manager.patch(
            f"/v1/venue/events/{event.event_id}", json={"transfers_allowed": False}
        )
        assert forbidden.json()["transfers_allowed"] is False
        async with giver.client() as client:
            refused = await client.post(path, json=body)
        await manager.patch(f"/v1/venue/events/{event.event_id}", json={"transfers_allowed": True})

    async with giver.client() as client:
        to_self = await client.post(path, json={"to_user_id": giver.user_id})
        given = await client.post(path, json=body)
        again = await client.post(path, json=body)

    assert (refused.status_code, error_code(refused)) == (409, "TRANSFER_NOT_ALLOWED")
    assert refused.json()["error"]["details"]["reason"] == "transfers_disabled"
    assert to_self.status_code == 409 and to_self.json()["error"]["details"]["reason"] == "same_fan"
    assert given.status_code == 200, given.text
    received = given.json()
    assert received["ticket_id"] != ticket["ticket_id"]
    assert (received["order_id"], received["seat"]) == (ticket["order_id"], ticket["seat"])
    assert received["status"] == "valid"
    assert received["mint"]["mint_address"] == ticket["mint"]["mint_address"]
    assert (again.status_code, error_code(again)) == (409, "TRANSFER_NOT_ALLOWED")
    assert [t["ticket_id"] for t in await listed_tickets(recipient)] == [received["ticket_id"]]
    assert await listed_tickets(giver) == []
    assert (await ticket_of(giver, ticket["ticket_id"]))["status"] == "transferred"
    scanned = await venue.scan(event, old_code)
    assert scanned.json()["result"] == "rejected" and scanned.json()["reason"] == "transferred"
    async with recipient.client() as client:
        onward = await client.post(
            f"/v1/tickets/{received['ticket_id']}/transfer", json={"to_user_id": "fan-x"}
        )
    assert onward.json()["error"]["details"]["reason"] == "cooldown"
    notice = await owner.fetchval(
        "SELECT payload FROM outbox WHERE topic = $1 AND aggregate_id = $2",
        "notice.ticket_transferred",
        received["ticket_id"],
    )
    assert json.loads(notice)["to_user_id"] == recipient.caller

    transfer = await transfer_moved(owner, ticket["ticket_id"])

    assert transfer["status"] == "transferred", transfer["last_error"]
    custody = Custody(stack.parts.custody_seed)
    recipient_wallet = str(custody.fan_keypair(venue.tenant_id, recipient.caller).pubkey())
    giver_wallet = str(custody.fan_keypair(venue.tenant_id, giver.caller).pubkey())
    assert transfer["to_address"] == recipient_wallet
    chain = ActorChain(local_chain_name(str(stack.outside.solana_directory)))
    nft = await read_nft(chain, ticket["mint"]["mint_address"], recipient_wallet)
    assert (nft.holder.owner, nft.holder.amount) == (recipient_wallet, 1)
    emptied = await read_nft(chain, ticket["mint"]["mint_address"], giver_wallet)
    assert (emptied.holder.owner, emptied.holder.amount) == (giver_wallet, 0)
    assert await code_of(recipient, received["ticket_id"]) != old_code
