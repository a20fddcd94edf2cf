"""Tickets offered by email over real HTTP: the recipient claims the ticket with the token from the
emailed link, and it moves (with its NFT) once; the giver may cancel until then; a claim lapses,
and another fan's or tenant's claim does not exist for anyone else."""

import asyncio
import email
import hashlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from actors.names import local_chain_name
from actors.solana_chain import ActorChain
from engine.ticket_qr import decode_base64url
from minting.custody import Custody
from tests.gateway.http_journeys import (
    HOLD_ATTEMPTS_MAX,
    CreatedEvent,
    Fan,
    error_code,
    general_items,
    minted_order,
    purchase_resent,
)
from tests.gateway.stack import Stack
from tests.gateway.test_http_tickets import transfer_moved
from tests.gateway.ticket_journeys import Venue, code_of, listed_tickets, ticket_of
from tests.minting.chain_reads import read_nft

MAIL_WAIT_S = 30.0
POLL_INTERVAL_S = 0.1
CLAIM_LINK = re.compile(r"/v1/claims/(cl1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{43})/accept")


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


def claim_tokens(stack: Stack, recipient: str) -> list[str]:
    tokens = []
    for path in sorted(stack.outside.mail_directory.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == recipient and "is waiting for you" in str(message["Subject"]):
            body = message.get_payload(decode=True)
            assert isinstance(body, bytes)
            tokens.extend(CLAIM_LINK.findall(body.decode()))
    return tokens


async def emailed_token(stack: Stack, recipient: str) -> str:
    """The claim token of the one link emailed to `recipient`, once the email is sent."""
    deadline = time.monotonic() + MAIL_WAIT_S
    while time.monotonic() < deadline:
        tokens = claim_tokens(stack, recipient)
        if tokens:
            [token] = tokens
            return token
        await asyncio.sleep(POLL_INTERVAL_S)
    raise AssertionError(f"no claim link was emailed to {recipient}")


async def recorded_notifications(owner: asyncpg.Connection, recipient: str) -> list[str]:
    """The payloads of the claim emails recorded for `recipient`, once their record is committed
    (the email may be written a moment before its record)."""
    deadline = time.monotonic() + MAIL_WAIT_S
    while True:
        rows = await owner.fetch(
            "SELECT payload::text FROM notifications WHERE kind = 'ticket_claim_offered' "
            "AND recipient = $1 AND status = 'sent'",
            recipient,
        )
        if rows or time.monotonic() > deadline:
            return [row["payload"] for row in rows]
        await asyncio.sleep(POLL_INTERVAL_S)


def recipient_address() -> str:
    return f"friend-{uuid.uuid4().hex[:10]}@example.com"


async def offer(giver: Fan, ticket_id: str, to_email: str) -> httpx.Response:
    async with giver.client() as client:
        return await client.post(f"/v1/tickets/{ticket_id}/transfer", json={"to_email": to_email})


async def accept(fan: Fan, token: str) -> httpx.Response:
    async with fan.client() as client:
        return await client.post(f"/v1/claims/{token}/accept")


async def cancel(fan: Fan, claim_id: str) -> httpx.Response:
    async with fan.client() as client:
        return await client.delete(f"/v1/claims/{claim_id}")


async def test_claim_moves_the_ticket_and_its_nft_once_when_its_recipient_accepts(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    giver, recipient = Fan(stack, event), Fan(stack, event)
    order = await purchase_resent(giver, 1)
    [ticket] = (await minted_order(giver, order["order_id"]))["tickets"]
    old_code = await code_of(giver, ticket["ticket_id"])
    to_email = recipient_address()

    offered = await offer(giver, ticket["ticket_id"], to_email)
    again = await offer(giver, ticket["ticket_id"], recipient_address())
    async with giver.client() as client:
        direct = await client.post(
            f"/v1/tickets/{ticket['ticket_id']}/transfer", json={"to_user_id": "someone"}
        )

    assert offered.status_code == 202, offered.text
    claim = offered.json()
    assert set(claim) == {"claim_id", "ticket_id", "status", "expires_at"}
    assert (claim["status"], claim["ticket_id"]) == ("pending", ticket["ticket_id"])
    for refused in (again, direct):
        assert (refused.status_code, error_code(refused)) == (409, "TRANSFER_NOT_ALLOWED")
        assert refused.json()["error"]["details"]["reason"] == "claim_pending"
    assert (await ticket_of(giver, ticket["ticket_id"]))["status"] == "valid"
    assert await listed_tickets(recipient) == []

    token = await emailed_token(stack, to_email)
    stored = await owner.fetchrow(
        "SELECT secret_hash, to_email FROM ticket_claims WHERE id = $1",
        uuid.UUID(claim["claim_id"]),
    )
    assert stored["to_email"] == to_email
    secret = decode_base64url(token.rsplit(".", 1)[1])
    assert secret is not None and len(secret) == 32
    assert bytes(stored["secret_hash"]) == hashlib.sha256(secret).digest()
    kept = await recorded_notifications(owner, to_email)
    assert kept and all(token not in payload for payload in kept)

    accepted = await accept(recipient, token)
    accepted_again = await accept(recipient, token)
    cancelled_late = await cancel(giver, claim["claim_id"])

    assert accepted.status_code == 200, accepted.text
    received = accepted.json()
    assert received["ticket_id"] != ticket["ticket_id"] and received["status"] == "valid"
    assert (received["order_id"], received["seat"]) == (ticket["order_id"], ticket["seat"])
    assert received["mint"]["mint_address"] == ticket["mint"]["mint_address"]
    for refused in (accepted_again, cancelled_late):
        assert (refused.status_code, error_code(refused)) == (409, "CLAIM_NOT_PENDING")
        assert refused.json()["error"]["details"] == {"status": "accepted"}
    assert [t["ticket_id"] for t in await listed_tickets(recipient)] == [received["ticket_id"]]
    assert await listed_tickets(giver) == []
    assert (await ticket_of(giver, ticket["ticket_id"]))["status"] == "transferred"
    scanned = await venue.scan(event, old_code)
    assert scanned.json()["result"] == "rejected" and scanned.json()["reason"] == "transferred"
    moves = await owner.fetchval(
        "SELECT count(*) FROM ticket_transfers WHERE from_ticket_id = $1",
        uuid.UUID(ticket["ticket_id"]),
    )
    assert moves == 1

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


async def test_claim_moves_its_ticket_once_when_two_fans_accept_it_at_the_same_moment(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    giver, first, second = Fan(stack, event), Fan(stack, event), Fan(stack, event)
    [ticket] = (await purchase_resent(giver, 1))["tickets"]
    to_email = recipient_address()
    offered = await offer(giver, ticket["ticket_id"], to_email)
    assert offered.status_code == 202, offered.text
    token = await emailed_token(stack, to_email)

    answers = await asyncio.gather(*(accept(fan, token) for fan in (first, second, first)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 409, 409], [answer.text for answer in answers]
    assert all(error_code(a) == "CLAIM_NOT_PENDING" for a in answers if a.status_code == 409)
    holders = [fan for fan in (first, second) if await listed_tickets(fan)]
    assert len(holders) == 1
    moves = await owner.fetchval(
        "SELECT count(*) FROM ticket_transfers WHERE from_ticket_id = $1",
        uuid.UUID(ticket["ticket_id"]),
    )
    assert moves == 1


async def test_cancelled_claim_leaves_the_ticket_with_its_giver_and_cannot_be_accepted(
    stack: Stack, event: CreatedEvent
) -> None:
    giver, recipient = Fan(stack, event), Fan(stack, event)
    [ticket] = (await purchase_resent(giver, 1))["tickets"]
    to_email = recipient_address()
    claim = (await offer(giver, ticket["ticket_id"], to_email)).json()
    token = await emailed_token(stack, to_email)
    same_user_other_tenant = Fan(stack, event)
    same_user_other_tenant.user_id = giver.user_id
    same_user_other_tenant.token = stack.token(user_id=giver.user_id)

    by_stranger = await cancel(recipient, claim["claim_id"])
    by_other_tenant = await cancel(same_user_other_tenant, claim["claim_id"])
    cancelled = await cancel(giver, claim["claim_id"])
    cancelled_again = await cancel(giver, claim["claim_id"])
    accepted = await accept(recipient, token)
    offered_anew = await offer(giver, ticket["ticket_id"], recipient_address())

    for hidden in (by_stranger, by_other_tenant):
        assert (hidden.status_code, error_code(hidden)) == (404, "NOT_FOUND")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == claim | {"status": "cancelled"}
    assert cancelled_again.json() == cancelled.json()
    assert (accepted.status_code, error_code(accepted)) == (409, "CLAIM_NOT_PENDING")
    assert accepted.json()["error"]["details"] == {"status": "cancelled"}
    assert (await ticket_of(giver, ticket["ticket_id"]))["status"] == "valid"
    assert await listed_tickets(recipient) == []
    assert offered_anew.status_code == 202, offered_anew.text


async def test_claim_cannot_be_accepted_once_it_has_expired(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    giver, recipient = Fan(stack, event), Fan(stack, event)
    [ticket] = (await purchase_resent(giver, 1))["tickets"]
    to_email = recipient_address()
    claim = (await offer(giver, ticket["ticket_id"], to_email)).json()
    token = await emailed_token(stack, to_email)
    lapsed = await owner.execute(
        "UPDATE ticket_claims SET expires_at = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(claim["claim_id"]),
    )
    assert lapsed == "UPDATE 1"

    accepted = await accept(recipient, token)
    cancelled = await cancel(giver, claim["claim_id"])
    offered_anew = await offer(giver, ticket["ticket_id"], recipient_address())

    assert (accepted.status_code, error_code(accepted)) == (409, "CLAIM_NOT_PENDING")
    assert accepted.json()["error"]["details"] == {"status": "expired"}
    assert (cancelled.status_code, error_code(cancelled)) == (409, "CLAIM_NOT_PENDING")
    assert offered_anew.status_code == 202, offered_anew.text
    statuses = await owner.fetch(
        "SELECT status FROM ticket_claims WHERE ticket_id = $1 ORDER BY created_at",
        uuid.UUID(ticket["ticket_id"]),
    )
    assert [row["status"] for row in statuses] == ["expired", "pending"]
    assert await listed_tickets(recipient) == []


async def test_claim_is_not_found_when_its_token_is_forged_or_the_ticket_is_another_fans(
    stack: Stack, event: CreatedEvent
) -> None:
    giver, stranger = Fan(stack, event), Fan(stack, event)
    [ticket] = (await purchase_resent(giver, 1))["tickets"]
    to_email = recipient_address()
    claim = (await offer(giver, ticket["ticket_id"], to_email)).json()
    token = await emailed_token(stack, to_email)
    prefix, secret = token.rsplit(".", 1)
    forged_secret = f"{prefix}.{'A' * len(secret)}"
    unknown_claim = f"cl1.{uuid.uuid4()}.{secret}"

    stolen = await offer(stranger, ticket["ticket_id"], recipient_address())
    answers = [
        await accept(stranger, forged_secret),
        await accept(stranger, unknown_claim),
        await accept(stranger, "not-a-token"),
        await cancel(stranger, str(uuid.uuid4())),
        await cancel(stranger, "not-an-id"),
        stolen,
    ]
    async with stack.client() as anonymous:
        unsigned = await anonymous.post(f"/v1/claims/{token}/accept")

    for answer in answers:
        assert (answer.status_code, error_code(answer)) == (404, "NOT_FOUND"), answer.text
    assert (unsigned.status_code, error_code(unsigned)) == (401, "UNAUTHENTICATED")
    assert (await accept(stranger, token)).status_code == 200
    assert claim["status"] == "pending"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"to_user_id": "a-friend", "to_email": "friend@example.com"},
        {"to_email": "not an address"},
        {"to_email": "friend@example.com", "to_tenant_id": str(uuid.uuid4())},
    ],
)
async def test_transfer_is_refused_when_its_recipient_is_misstated(
    stack: Stack, event: CreatedEvent, body: dict[str, Any]
) -> None:
    giver = Fan(stack, event)
    [ticket] = (await purchase_resent(giver, 1))["tickets"]
    async with giver.client() as client:
        answer = await client.post(f"/v1/tickets/{ticket['ticket_id']}/transfer", json=body)
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert (await ticket_of(giver, ticket["ticket_id"]))["status"] == "valid"


async def test_comp_goes_to_whoever_claims_it_when_given_to_an_email(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    recipient = Fan(stack, event)
    to_email = recipient_address()
    async with stack.client(venue.manager_token) as manager:
        key = str(uuid.uuid4())
        for _ in range(HOLD_ATTEMPTS_MAX):
            given = await manager.post(
                f"/v1/venue/events/{event.event_id}/comps",
                json={"to_email": to_email, "reason": "press"} | general_items(event, 1),
                headers={"Idempotency-Key": key},
            )
            if given.status_code != 503:
                break
        both = await manager.post(
            f"/v1/venue/events/{event.event_id}/comps",
            json={"to_email": to_email, "to_user_id": "x", "reason": "press"}
            | general_items(event, 1),
        )
    assert given.status_code == 201, given.text
    assert (both.status_code, error_code(both)) == (422, "VALIDATION_ERROR")
    comp = given.json()
    [ticket] = comp["tickets"]
    [claim] = comp["claims"]
    assert (comp["to_email"], comp["to_user_id"]) == (to_email, None)
    assert (claim["ticket_id"], claim["status"]) == (ticket["ticket_id"], "pending")

    accepted = await accept(recipient, await emailed_token(stack, to_email))

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["order_id"] == comp["order_id"]
    assert [t["ticket_id"] for t in await listed_tickets(recipient)] == [
        accepted.json()["ticket_id"]
    ]
