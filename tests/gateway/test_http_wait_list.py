"""The wait list over HTTP, on the session's real stack: joining, reading and leaving an entry;
stock that comes back after a sell-out (an expired hold, a refund) offered to the first entry
before any general hold, bought through the usual checkout, and emailed; the venue's figures."""

import asyncio
import email
import email.message
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, error_code, general_items
from tests.gateway.stack import Stack

pytestmark = pytest.mark.usefixtures("stack")

WAIT_LIST = {"enabled": True, "offer_ttl_s": 60}
HOLD_TTL_S_MIN = 30
# An expired hold returns within 2 s of its expiry (API.md); the machine may be busy.
EXPIRY_GRACE_S = 15
POLL_INTERVAL_S = 0.25
MAIL_WAIT_S = 30


@pytest.fixture
async def owner(stack: Stack) -> Any:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


async def join(
    client: httpx.AsyncClient, event: CreatedEvent, quantity: int, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/events/{event.event_id}/wait-list", json={"quantity": quantity, **body}
    )


async def entry_of(fan: Fan, entry_id: str) -> dict[str, Any]:
    async with fan.client() as client:
        answer = await client.get(f"/v1/wait-list/{entry_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def joined(fan: Fan, quantity: int = 1, **body: Any) -> str:
    async with fan.client() as client:
        answer = await join(client, fan.event, quantity, **body)
    assert answer.status_code == 201, answer.text
    entry_id: str = answer.json()["entry_id"]
    return entry_id


async def entry_once(fan: Fan, entry_id: str, status: str, within_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        entry = await entry_of(fan, entry_id)
        if entry["status"] == status or time.monotonic() > deadline:
            assert entry["status"] == status, entry
            return entry
        await asyncio.sleep(POLL_INTERVAL_S)


async def sold_out_event(stack: Stack, capacity: int, **body: Any) -> tuple[CreatedEvent, Fan, str]:
    """An event of `capacity` general units with the wait list on, all held by one fan."""
    event = await create_event(
        stack, general_capacity=capacity, seat_rows=0, wait_list=WAIT_LIST, **body
    )
    holder = Fan(stack, event)
    # Keyed, so the gateway sends it again if the event's new actor is slow to start.
    async with holder.client() as client:
        held = await client.post(
            f"/v1/events/{event.event_id}/holds",
            json=general_items(event, capacity),
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    assert held.status_code == 201, held.text
    return event, holder, held.json()["hold_id"]


def offer_emails(stack: Stack, recipient: str) -> list[email.message.Message]:
    messages = []
    for path in sorted(stack.outside.mail_directory.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == recipient and "wait-list offer" in str(message["Subject"]):
            messages.append(message)
    return messages


async def delivered_offer_emails(stack: Stack, recipient: str) -> list[email.message.Message]:
    """The offers emailed to `recipient`, once the notification workers sent any."""
    deadline = time.monotonic() + MAIL_WAIT_S
    for _ in range(int(MAIL_WAIT_S / POLL_INTERVAL_S)):
        messages = offer_emails(stack, recipient)
        if messages or time.monotonic() > deadline:
            return messages
        await asyncio.sleep(POLL_INTERVAL_S)
    return offer_emails(stack, recipient)


async def test_a_fan_joins_reads_and_leaves_one_entry_per_event(stack: Stack) -> None:
    event, _, _ = await sold_out_event(stack, 2)
    fan, other = Fan(stack, event), Fan(stack, event)
    async with fan.client() as client:
        first = await join(client, event, 2)
        again = await join(client, event, 1)
        keyed = await client.post(
            f"/v1/events/{event.event_id}/wait-list",
            json={"quantity": 2},
            headers={"Idempotency-Key": "join-1"},
        )
        replayed = await client.post(
            f"/v1/events/{event.event_id}/wait-list",
            json={"quantity": 2},
            headers={"Idempotency-Key": "join-1"},
        )
    async with other.client() as client:
        behind = await join(client, event, 1)
        not_theirs = await client.get(f"/v1/wait-list/{first.json()['entry_id']}")
        not_theirs_to_leave = await client.delete(f"/v1/wait-list/{first.json()['entry_id']}")

    assert first.status_code == 201, first.text
    entry_id = first.json()["entry_id"]
    assert first.json() == {"entry_id": entry_id, "status": "waiting", "position": 0}
    assert (again.status_code, again.json()["entry_id"]) == (200, entry_id)
    assert keyed.json()["entry_id"] == entry_id and replayed.json() == keyed.json()
    assert (behind.status_code, behind.json()["position"]) == (201, 1)
    assert (not_theirs.status_code, error_code(not_theirs)) == (404, "NOT_FOUND")
    assert not_theirs_to_leave.status_code == 404
    assert await entry_of(fan, entry_id) == {
        "entry_id": entry_id,
        "event_id": event.event_id,
        "status": "waiting",
        "position": 0,
        "quantity": 2,
        "ticket_type_id": None,
        "hold_id": None,
        "offer_expires_at": None,
    }
    async with fan.client() as client:
        left = await client.delete(f"/v1/wait-list/{entry_id}")
        left_again = await client.delete(f"/v1/wait-list/{entry_id}")
    assert left.status_code == 204 and left_again.status_code == 204
    assert (await entry_of(fan, entry_id))["status"] == "left"
    assert (await entry_of(other, behind.json()["entry_id"]))["position"] == 0


async def test_joining_is_refused_when_the_wait_list_is_off_or_the_body_is_wrong(
    stack: Stack,
) -> None:
    closed = await create_event(stack, general_capacity=2, seat_rows=0)
    event, _, _ = await sold_out_event(stack, 2)
    fan = Fan(stack, event)
    async with fan.client() as client:
        off = await join(client, closed, 1)
        too_many = await join(client, event, 5)
        unknown_type = await join(client, event, 1, ticket_type_id=str(uuid.uuid4()))
        unknown_event = await client.post(f"/v1/events/{uuid.uuid4()}/wait-list", json={})
        unknown_entry = await client.get(f"/v1/wait-list/{uuid.uuid4()}")

    assert (off.status_code, error_code(off)) == (409, "WAIT_LIST_CLOSED")
    assert (too_many.status_code, error_code(too_many)) == (422, "VALIDATION_ERROR")
    assert (unknown_type.status_code, error_code(unknown_type)) == (422, "VALIDATION_ERROR")
    assert unknown_event.status_code == 404 and unknown_entry.status_code == 404


async def test_wait_list_is_set_at_creation_and_changed_by_patch(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=2, seat_rows=0, wait_list=WAIT_LIST)
    async with event.venue() as venue:
        shown = (await venue.get(f"/v1/venue/events/{event.event_id}")).json()
        patched = await venue.patch(
            f"/v1/venue/events/{event.event_id}",
            json={"onsale": {"wait_list": {"enabled": False, "offer_ttl_s": 120}}},
        )
        too_short = await venue.patch(
            f"/v1/venue/events/{event.event_id}",
            json={"onsale": {"wait_list": {"offer_ttl_s": 59}}},
        )
    async with Fan(stack, event).client() as client:
        refused = await join(client, event, 1)

    assert shown["onsale"]["wait_list"] == WAIT_LIST
    assert patched.status_code == 200, patched.text
    assert patched.json()["onsale"]["wait_list"] == {"enabled": False, "offer_ttl_s": 120}
    assert (too_short.status_code, error_code(too_short)) == (422, "VALIDATION_ERROR")
    assert error_code(refused) == "WAIT_LIST_CLOSED"


async def test_an_expired_hold_after_a_sell_out_is_offered_to_the_first_entry_and_bought(
    stack: Stack, owner: asyncpg.Connection
) -> None:
    event, _, _ = await sold_out_event(stack, 2, hold_ttl_s=HOLD_TTL_S_MIN)
    first, second, general = Fan(stack, event), Fan(stack, event), Fan(stack, event)
    first_entry = await joined(first, 2)
    second_entry = await joined(second, 2)

    offered = await entry_once(first, first_entry, "offered", HOLD_TTL_S_MIN + EXPIRY_GRACE_S)
    async with general.client() as client:
        refused = await client.post(
            f"/v1/events/{event.event_id}/holds", json=general_items(event, 1)
        )
    async with first.client() as client:
        offer_hold = (await client.get(f"/v1/holds/{offered['hold_id']}")).json()

    assert (refused.status_code, error_code(refused)) == (409, "SOLD_OUT")
    assert offered["position"] is None and offered["offer_expires_at"].endswith("Z")
    assert offer_hold["status"] == "active"
    assert offer_hold["items"] == [
        {"ticket_type_id": event.general, "quantity": 2, "unit_price_cents": 5_000}
    ]
    assert (await entry_of(second, second_entry))["status"] == "waiting"
    checkout = await first.checkout(offered["hold_id"])
    assert (await first.pay(checkout["order_id"])).json()["status"] == "fulfilled"
    assert (await entry_of(first, first_entry))["status"] == "converted"

    [message] = await delivered_offer_emails(stack, first.email)
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "2 tickets" in text and offered["hold_id"] in text and " until " in text

    async with event.venue() as venue:
        stats = (await venue.get(f"/v1/venue/events/{event.event_id}/stats")).json()
    assert stats["wait_list"] == {
        "waiting": 1,
        "offered": 0,
        "converted": 1,
        "expired": 0,
        "left": 0,
    }


async def test_a_refunds_seats_go_to_the_wait_list(stack: Stack) -> None:
    event = await create_event(
        stack, general_capacity=1, seat_rows=1, seats_per_row=2, wait_list=WAIT_LIST
    )
    buyer, waiting = Fan(stack, event), Fan(stack, event)
    async with buyer.client() as client:
        held = await client.post(
            f"/v1/events/{event.event_id}/holds",
            json={"best_available": {"ticket_type_id": event.reserved, "quantity": 2}},
        )
    assert held.status_code == 201, held.text
    checkout = await buyer.checkout(held.json()["hold_id"])
    assert (await buyer.pay(checkout["order_id"])).json()["status"] == "fulfilled"
    entry_id = await joined(waiting, 2, ticket_type_id=event.reserved)

    async with event.venue() as venue:
        refunded = await venue.post(
            f"/v1/orders/{checkout['order_id']}/refund", json={"reason": "cannot come"}
        )

    assert refunded.status_code == 200, refunded.text
    entry = await entry_of(waiting, entry_id)
    assert entry["status"] == "offered"
    async with waiting.client() as client:
        offer = (await client.get(f"/v1/holds/{entry['hold_id']}")).json()
    assert sorted(offer["seats"]) == sorted(held.json()["seats"])


async def test_an_offer_let_go_unbought_passes_at_once_to_the_next_entry(stack: Stack) -> None:
    event, holder, hold_id = await sold_out_event(stack, 1)
    first, second = Fan(stack, event), Fan(stack, event)
    first_entry = await joined(first, 1)
    second_entry = await joined(second, 1)
    async with holder.client() as client:
        assert (await client.delete(f"/v1/holds/{hold_id}")).status_code == 204
    offered = await entry_once(first, first_entry, "offered", EXPIRY_GRACE_S)
    assert (await entry_of(second, second_entry))["status"] == "waiting"

    async with first.client() as client:
        assert (await client.delete(f"/v1/holds/{offered['hold_id']}")).status_code == 204
    passed = await entry_of(second, second_entry)

    assert passed["status"] == "offered" and passed["hold_id"] != offered["hold_id"]
    assert (await entry_of(first, first_entry))["status"] == "expired"
