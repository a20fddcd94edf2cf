"""The service desk over real HTTP (API.md v1.1): the venue finds any order of its tenant by email,
name, order id or seat, page by page; reads an order's history in time order; and emails its
confirmation again, once per Idempotency-Key. A fan lists their own orders across tenants."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from gateway.auth import Role
from tests.gateway.desk_journeys import NamedFan, emails_once_there, searched
from tests.gateway.http_journeys import (
    MINT_POLL_INTERVAL_S,
    MINT_POLLS_MAX,
    CreatedEvent,
    error_code,
)
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import Venue, code_of

pytestmark = pytest.mark.usefixtures("stack")


@pytest.fixture
def venue(stack: Stack) -> Venue:
    return Venue(stack)


@pytest.fixture
async def event(venue: Venue) -> CreatedEvent:
    return await venue.event(general_capacity=20)


@pytest.fixture
async def owner(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


def order_ids(orders: list[dict[str, Any]]) -> list[str]:
    return [order["order_id"] for order in orders]


async def test_desk_finds_orders_by_email_name_id_and_seat_newest_first_within_its_tenant(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    marie, zed = NamedFan(stack, event, "Marie Curie"), NamedFan(stack, event, "Zed Other")
    first = await marie.purchase(1)
    seated = await marie.buy_seat("101-A-3")
    other = await zed.purchase(2)
    admin = stack.token(tenant_id=venue.tenant_id, roles=(Role.ADMIN,))
    staff = venue.staff_token

    by_email = await searched(stack, staff, q=marie.email.upper())
    by_name = await searched(stack, venue.manager_token, q="  mARIE cu")
    by_id = await searched(stack, admin, q=other["order_id"])
    by_seat = await searched(stack, staff, q="101-A-3", event_id=event.event_id)
    everything = await searched(stack, staff, event_id=event.event_id, limit="2")
    fulfilled = await searched(stack, staff, event_id=event.event_id, status="fulfilled")
    pending = await searched(stack, staff, event_id=event.event_id, status="pending_payment")
    elsewhere = await searched(stack, stack.token(roles=(Role.VENUE_STAFF,)), q=marie.email)
    async with marie.client() as client:
        fans_search = await client.get("/v1/venue/orders", params={"q": marie.email})
        read = await client.get(f"/v1/orders/{seated['order_id']}")

    newest_first = [seated["order_id"], first["order_id"]]
    assert order_ids(by_email) == newest_first
    assert order_ids(by_name) == newest_first
    assert order_ids(by_id) == [other["order_id"]]
    assert order_ids(by_seat) == [seated["order_id"]]
    assert order_ids(everything) == [other["order_id"], *newest_first]
    assert order_ids(fulfilled) == order_ids(everything) and pending == []
    assert elsewhere == []
    assert (fans_search.status_code, error_code(fans_search)) == (403, "FORBIDDEN")
    [shown] = by_seat
    assert shown == read.json() | {"email": marie.email}
    assert shown["created_at"] <= by_email[0]["created_at"]
    assert [ticket["seat"] for ticket in shown["tickets"]] == ["101-A-3"]


async def test_desk_search_refuses_bad_parameters_and_walks_pages_with_the_cursor(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    fan = NamedFan(stack, event, "Paging Fan")
    bought = [await fan.purchase(1) for _ in range(2)]
    async with stack.client(venue.staff_token) as staff:
        first_page = await staff.get("/v1/venue/orders", params={"q": fan.email, "limit": "1"})
        second_page = await staff.get(
            "/v1/venue/orders",
            params={"q": fan.email, "limit": "1", "cursor": first_page.json()["next_cursor"]},
        )
        refusals = {
            name: await staff.get("/v1/venue/orders", params={name: value})
            for name, value in (
                ("limit", "0"),
                ("limit", "101"),
                ("cursor", "not-a-cursor!"),
                ("status", "lost"),
                ("event_id", "101"),
                ("q", "x" * 321),
            )
        }

    assert order_ids(first_page.json()["orders"]) == [bought[1]["order_id"]]
    assert first_page.json()["next_cursor"] is not None
    assert order_ids(second_page.json()["orders"]) == [bought[0]["order_id"]]
    assert second_page.json()["next_cursor"] is None
    for name, answer in refusals.items():
        assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR"), name
        assert answer.json()["error"]["details"]["parameter"] == name


async def history_of(stack: Stack, token: str, order_id: str) -> dict[str, Any]:
    async with stack.client(token) as client:
        answer = await client.get(f"/v1/venue/orders/{order_id}/history")
    assert answer.status_code == 200, answer.text
    history: dict[str, Any] = answer.json()
    return history


async def history_with_notice(stack: Stack, token: str, order_id: str) -> dict[str, Any]:
    """The history once the notification worker has sent the refund's notice."""
    for _ in range(MINT_POLLS_MAX):
        history = await history_of(stack, token, order_id)
        notices = [e["details"]["notice"] for e in history["history"] if e["kind"] == "notice_sent"]
        if "refunded" in notices:
            return history
        await asyncio.sleep(MINT_POLL_INTERVAL_S)
    raise AssertionError(f"no refund notice was sent for {order_id}")


async def test_history_tells_a_bought_transferred_scanned_locked_and_refunded_order_in_time_order(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    buyer, recipient = NamedFan(stack, event, "Ada Buyer"), NamedFan(stack, event, "Recipient")
    order = await buyer.purchase(2)
    given, kept = order["tickets"]
    async with buyer.client() as client:
        moved = await client.post(
            f"/v1/tickets/{given['ticket_id']}/transfer",
            json={"to_user_id": recipient.user_id, "to_tenant_id": str(recipient.tenant_id)},
        )
    assert moved.status_code == 200, moved.text
    scanned = await venue.scan(event, await code_of(buyer, kept["ticket_id"]))
    assert scanned.json()["result"] == "admitted", scanned.text
    received = moved.json()["ticket_id"]
    async with stack.client(venue.manager_token) as manager:
        locked = await manager.post(f"/v1/venue/tickets/{received}/lock", json={"reason": "fraud"})
        unlocked = await manager.post(f"/v1/venue/tickets/{received}/unlock", json={})
        refunded = await manager.post(
            f"/v1/orders/{order['order_id']}/refund", json={"reason": "asked at the desk"}
        )
    assert (locked.status_code, unlocked.status_code, refunded.status_code) == (200, 200, 200)

    history = await history_with_notice(stack, venue.staff_token, order["order_id"])
    async with stack.client(stack.token(roles=(Role.VENUE_STAFF,))) as other_staff:
        other_tenant = await other_staff.get(f"/v1/venue/orders/{order['order_id']}/history")
        unknown = await other_staff.get(f"/v1/venue/orders/{uuid.uuid4()}/history")
    async with buyer.client() as client:
        fans_read = await client.get(f"/v1/venue/orders/{order['order_id']}/history")

    entries = history["history"]
    assert history["order_id"] == order["order_id"]
    assert [entry["at"] for entry in entries] == sorted(entry["at"] for entry in entries)
    kinds = [entry["kind"] for entry in entries]
    story = [
        "order_created",
        "payment_succeeded",
        "tickets_issued",
        "ticket_transferred",
        "ticket_scanned",
        "ticket_locked",
        "ticket_unlocked",
        "refund",
    ]
    assert [kind for kind in kinds if kind in story] == story, kinds
    details = {entry["kind"]: entry["details"] for entry in entries}
    assert details["tickets_issued"]["ticket_ids"] == [given["ticket_id"], kept["ticket_id"]]
    assert details["ticket_transferred"]["from_ticket_id"] == given["ticket_id"]
    assert details["ticket_transferred"]["to_ticket_id"] == received
    assert (details["ticket_scanned"]["ticket_id"], details["ticket_scanned"]["result"]) == (
        kept["ticket_id"],
        "admitted",
    )
    assert details["ticket_locked"]["reason"] == "fraud"
    assert details["refund"]["status"] == "succeeded"
    actors = {entry["kind"]: entry["actor"] for entry in entries}
    assert actors["order_created"] == buyer.caller
    assert set(kinds) >= {"notice_sent"}
    assert (other_tenant.status_code, error_code(other_tenant)) == (404, "NOT_FOUND")
    assert (unknown.status_code, error_code(unknown)) == (404, "NOT_FOUND")
    assert (fans_read.status_code, error_code(fans_read)) == (403, "FORBIDDEN")


async def test_resend_emails_the_confirmation_again_once_per_idempotency_key(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = NamedFan(stack, event, "Resent Fan")
    order = await fan.purchase(1)
    await emails_once_there(stack, fan.email, 1)
    path = f"/v1/venue/orders/{order['order_id']}/resend"
    async with stack.client(venue.staff_token, **{"Idempotency-Key": "resend-1"}) as staff:
        first = await staff.post(path)
        replayed = await staff.post(path)
    async with stack.client(venue.staff_token, **{"Idempotency-Key": "resend-2"}) as staff:
        second = await staff.post(path, json={})
        unknown_field = await staff.post(path, json={"to": "someone@example.com"})

    assert (first.status_code, replayed.status_code, second.status_code) == (202, 202, 202)
    assert replayed.json() == first.json()
    assert first.json()["email"] == fan.email and first.json()["order_id"] == order["order_id"]
    assert second.json()["resend_id"] != first.json()["resend_id"]
    assert (unknown_field.status_code, error_code(unknown_field)) == (409, "IDEMPOTENCY_CONFLICT")
    resends = await owner.fetchval(
        "SELECT count(*) FROM outbox WHERE aggregate_id = $1 AND payload ? 'resend_id'"
        " AND payload ->> 'resend_id' IS NOT NULL",
        order["order_id"],
    )
    assert resends == 2
    messages = await emails_once_there(stack, fan.email, 3)
    bodies = [message.get_payload(decode=True).decode() for message in messages]  # type: ignore[union-attr]
    assert len(bodies) == 3 and all(order["tickets"][0]["ticket_id"] in body for body in bodies)


async def test_resend_is_refused_for_an_unpaid_order_one_without_email_and_outside_the_tenant(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    fan, silent = NamedFan(stack, event, "Unpaid Fan"), NamedFan(stack, event, "Silent Fan")
    pending = await fan.checkout(await fan.hold(1))
    silent.token = stack.token(user_id=silent.user_id, tenant_id=silent.tenant_id)
    no_email = await silent.purchase(1)
    paid = await fan.purchase(1)
    async with stack.client(venue.manager_token) as manager:
        unpaid = await manager.post(f"/v1/venue/orders/{pending['order_id']}/resend")
        nowhere = await manager.post(f"/v1/venue/orders/{no_email['order_id']}/resend")
        bad_body = await manager.post(f"/v1/venue/orders/{paid['order_id']}/resend", json={"x": 1})
    async with stack.client(stack.token(roles=(Role.VENUE_MANAGER,))) as other_manager:
        other_tenant = await other_manager.post(f"/v1/venue/orders/{paid['order_id']}/resend")
    async with fan.client() as client:
        fans_resend = await client.post(f"/v1/venue/orders/{paid['order_id']}/resend")

    assert (unpaid.status_code, error_code(unpaid)) == (409, "ORDER_NOT_CONFIRMED")
    assert unpaid.json()["error"]["details"] == {"status": "pending_payment"}
    assert (nowhere.status_code, error_code(nowhere)) == (409, "ORDER_HAS_NO_EMAIL")
    assert (bad_body.status_code, error_code(bad_body)) == (422, "VALIDATION_ERROR")
    assert (other_tenant.status_code, error_code(other_tenant)) == (404, "NOT_FOUND")
    assert (fans_resend.status_code, error_code(fans_resend)) == (403, "FORBIDDEN")


async def test_fan_lists_their_own_orders_across_tenants_newest_first_in_pages(
    stack: Stack, event: CreatedEvent
) -> None:
    elsewhere = await Venue(stack).event()
    fan = NamedFan(stack, event, "Many Tenants")
    first = await fan.purchase(1)
    fan.event = elsewhere
    second = await fan.purchase(1)
    third = await fan.checkout(await fan.hold(1))
    async with fan.client() as client:
        page = await client.get("/v1/me/orders", params={"limit": "2"})
        rest = await client.get(
            "/v1/me/orders", params={"limit": "2", "cursor": page.json()["next_cursor"]}
        )
        read = await client.get(f"/v1/orders/{first['order_id']}")
        bad_limit = await client.get("/v1/me/orders", params={"limit": "x"})
        bad_cursor = await client.get("/v1/me/orders", params={"cursor": "%%%"})
    async with stack.client(stack.token()) as stranger:
        strangers = await stranger.get("/v1/me/orders")

    assert order_ids(page.json()["orders"]) == [third["order_id"], second["order_id"]]
    assert rest.json() == {"orders": [read.json()], "next_cursor": None}
    assert strangers.json() == {"orders": [], "next_cursor": None}
    for answer in (bad_limit, bad_cursor):
        assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
