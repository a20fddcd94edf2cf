"""Cancelling and postponing an event over HTTP: the sale stops at once (live holds released,
new holds and old holds' checkouts EVENT_CANCELLED, queue places `cancelled`), the event shows
`cancelled` everywhere, and only its tenant's venue managers and admins may do either."""

import asyncio
import datetime
import email
import email.message
import time
import uuid
from typing import Any

import asyncpg
import pytest

from gateway.auth import Role
from tests.gateway.http_journeys import (
    VENUE_ROLES,
    CreatedEvent,
    Fan,
    create_event,
    error_code,
    general_items,
    inventory_started,
)
from tests.gateway.stack import Stack, moment

pytestmark = pytest.mark.usefixtures("stack")
POLL_INTERVAL_S = 0.1
MAIL_WAIT_S = 30.0
# A fan's app joins again after a 503: the room's actor may take a while to start.
QUEUE_JOIN_ATTEMPTS_MAX = 10


async def cancel(event: CreatedEvent, reason: str = "the artist is ill") -> Any:
    async with event.venue() as venue:
        return await venue.post(
            f"/v1/venue/events/{event.event_id}/cancel", json={"reason": reason}
        )


async def test_the_sale_stops_at_once_when_the_event_is_cancelled(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=20, seat_rows=0)
    await inventory_started(stack, event)
    fan = Fan(stack, event)
    hold_id = await fan.hold(2)
    other = Fan(stack, event)
    other_hold_id = await other.hold(3)

    cancelled = await cancel(event)
    again = await cancel(event, reason="said twice")

    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert (again.status_code, again.json()["status"]) == (202, "cancelled")
    async with fan.client() as client:
        hold = await client.get(f"/v1/holds/{hold_id}")
        new_hold = await client.post(
            f"/v1/events/{event.event_id}/holds", json=general_items(event, 1)
        )
        checkout = await client.post(f"/v1/holds/{hold_id}/checkout")
        read = await client.get(f"/v1/events/{event.event_id}")
    assert hold.json()["status"] == "released"
    assert (new_hold.status_code, error_code(new_hold)) == (409, "EVENT_CANCELLED")
    assert (checkout.status_code, error_code(checkout)) == (409, "EVENT_CANCELLED")
    assert read.json()["status"] == "cancelled"
    async with event.venue() as venue:
        stats = (await venue.get(f"/v1/venue/events/{event.event_id}/stats")).json()
        listed = (await venue.get("/v1/venue/events")).json()["events"]
        patched = await venue.patch(f"/v1/venue/events/{event.event_id}", json={"status": "live"})
    assert (stats["status"], stats["held"], stats["available"]) == ("cancelled", 0, 20)
    assert stats["refunds"] == {"pending": 0, "refunded": 0, "failed": 0}
    assert [row["status"] for row in listed if row["event_id"] == event.event_id] == ["cancelled"]
    assert (patched.status_code, error_code(patched)) == (409, "EVENT_CANCELLED")
    async with other.client() as client:
        assert (await client.get(f"/v1/holds/{other_hold_id}")).json()["status"] == "released"


async def queue_place(fan: Fan, event: CreatedEvent, queue_id: str) -> Any:
    """The fan's place once the waiting room has published it."""
    async with fan.client() as client:
        for _ in range(100):
            answer = await client.get(f"/v1/events/{event.event_id}/queue/{queue_id}")
            if answer.status_code == 200:
                return answer.json()
            await asyncio.sleep(POLL_INTERVAL_S)
    raise AssertionError(f"the place {queue_id} was never published")


async def test_queue_places_are_cancelled_when_the_event_is_cancelled(stack: Stack) -> None:
    event = await create_event(
        stack,
        opens_in=datetime.timedelta(hours=1),
        waiting_room={"enabled": True, "admit_per_second": 50, "max_active_shoppers": 100},
    )
    await inventory_started(stack, event)
    fan = Fan(stack, event)
    async with fan.client() as client:
        for _ in range(QUEUE_JOIN_ATTEMPTS_MAX):
            answer = await client.post(f"/v1/events/{event.event_id}/queue")
            if answer.status_code != 503:
                break
    assert answer.status_code == 200, answer.text
    joined = answer.json()
    assert joined["state"] == "pre_queue"
    assert (await queue_place(fan, event, joined["queue_id"]))["state"] == "pre_queue"

    assert (await cancel(event)).status_code == 202

    place = await queue_place(fan, event, joined["queue_id"])
    assert (place["state"], place["access_token"], place["position"]) == ("cancelled", None, None)
    async with Fan(stack, event).client() as client:
        late = await client.post(f"/v1/events/{event.event_id}/queue")
    assert (late.status_code, error_code(late)) == (409, "EVENT_CANCELLED")


async def test_only_the_tenant_managers_cancel_or_postpone_when_others_try(stack: Stack) -> None:
    event = await create_event(stack)
    postponement = {
        "starts_at": moment(datetime.timedelta(days=60)),
        "ends_at": moment(datetime.timedelta(days=60, hours=3)),
        "refund_until": moment(datetime.timedelta(days=50)),
    }
    answers = {}
    for name, roles in (("fan", (Role.FAN,)), ("staff", (Role.VENUE_STAFF,))):
        async with stack.client(stack.token(roles=roles)) as caller:
            answers[name] = await caller.post(
                f"/v1/venue/events/{event.event_id}/cancel", json={"reason": "no"}
            )
    async with stack.client(stack.token(roles=VENUE_ROLES)) as stranger:
        answers["other tenant"] = await stranger.post(
            f"/v1/venue/events/{event.event_id}/cancel", json={"reason": "no"}
        )
        answers["other tenant postpones"] = await stranger.post(
            f"/v1/venue/events/{event.event_id}/postpone", json=postponement
        )
    async with event.venue() as venue:
        answers["unknown field"] = await venue.post(
            f"/v1/venue/events/{event.event_id}/cancel", json={"reason": "x", "why": "y"}
        )
        answers["past window"] = await venue.post(
            f"/v1/venue/events/{event.event_id}/postpone",
            json=postponement | {"refund_until": moment(datetime.timedelta(hours=-1))},
        )
        read = await venue.get(f"/v1/venue/events/{event.event_id}")

    assert {name: (answer.status_code, error_code(answer)) for name, answer in answers.items()} == {
        "fan": (403, "FORBIDDEN"),
        "staff": (403, "FORBIDDEN"),
        "other tenant": (404, "NOT_FOUND"),
        "other tenant postpones": (404, "NOT_FOUND"),
        "unknown field": (422, "VALIDATION_ERROR"),
        "past window": (422, "VALIDATION_ERROR"),
    }
    assert (read.json()["status"], read.json()["refund_until"]) == ("on_sale", None)


def emails_about(stack: Stack, recipient: str, subject_part: str) -> list[email.message.Message]:
    messages = []
    for path in sorted(stack.outside.mail_directory.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == recipient and subject_part in str(message["Subject"]):
            messages.append(message)
    return messages


async def delivered_emails(
    stack: Stack, recipient: str, subject_part: str
) -> list[email.message.Message]:
    """The emails about `subject_part` sent to `recipient`, once there are any."""
    deadline = time.monotonic() + MAIL_WAIT_S
    while time.monotonic() < deadline:
        messages = emails_about(stack, recipient, subject_part)
        if messages:
            return messages
        await asyncio.sleep(POLL_INTERVAL_S)
    return emails_about(stack, recipient, subject_part)


async def test_fans_keep_their_tickets_and_are_told_once_when_the_event_is_postponed(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=20)
    fan = Fan(stack, event)
    order = await fan.purchase(2)
    starts_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=90)
    body = {
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + datetime.timedelta(hours=3)).isoformat(),
        "refund_until": moment(datetime.timedelta(days=80)),
    }
    async with event.venue() as venue:
        postponed = await venue.post(f"/v1/venue/events/{event.event_id}/postpone", json=body)

    assert postponed.status_code == 200, postponed.text
    view = postponed.json()
    assert view["status"] == "on_sale" and view["refund_until"] is not None
    assert view["starts_at"][:16] == starts_at.strftime("%Y-%m-%dT%H:%M")
    [notice] = await delivered_emails(stack, fan.email, "is postponed")
    text = notice.get_payload(decode=True)
    assert isinstance(text, bytes) and text.decode().count(order["order_id"]) == 1
    tickets = (await fan.order(order["order_id"]))["tickets"]
    assert {ticket["status"] for ticket in tickets} == {"valid"}
    async with fan.client() as client:
        read = (await client.get(f"/v1/events/{event.event_id}")).json()
    assert read["starts_at"] == view["starts_at"] and read["refund_until"] == view["refund_until"]


async def test_a_cancelled_event_is_not_postponed_when_asked(stack: Stack) -> None:
    event = await create_event(stack)
    await inventory_started(stack, event)
    assert (await cancel(event)).status_code == 202
    async with event.venue() as venue:
        answer = await venue.post(
            f"/v1/venue/events/{event.event_id}/postpone",
            json={
                "starts_at": moment(datetime.timedelta(days=60)),
                "ends_at": moment(datetime.timedelta(days=60, hours=3)),
                "refund_until": moment(datetime.timedelta(days=50)),
            },
        )
    assert (answer.status_code, error_code(answer)) == (409, "EVENT_CANCELLED")


async def postpone(event: CreatedEvent) -> None:
    async with event.venue() as venue:
        answer = await venue.post(
            f"/v1/venue/events/{event.event_id}/postpone",
            json={
                "starts_at": moment(datetime.timedelta(days=60)),
                "ends_at": moment(datetime.timedelta(days=60, hours=3)),
                "refund_until": moment(datetime.timedelta(days=50)),
            },
        )
    assert answer.status_code == 200, answer.text


async def test_the_owner_alone_is_refunded_in_full_when_asking_inside_the_window(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=20, seat_rows=0)
    await inventory_started(stack, event)
    fan = Fan(stack, event)
    order = await fan.purchase(2)
    path = f"/v1/orders/{order['order_id']}/refund-request"
    await postpone(event)

    async with Fan(stack, event).client() as stranger:
        strangers = await stranger.post(path, json={})
    async with event.venue() as venue:
        venues = await venue.post(path, json={})
    async with fan.client() as client:
        refunded = await client.post(path, json={"reason": "cannot come on the new date"})
        again = await client.post(path)

    assert (strangers.status_code, error_code(strangers)) == (404, "NOT_FOUND")
    assert (venues.status_code, error_code(venues)) == (404, "NOT_FOUND")
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    assert {ticket["status"] for ticket in refunded.json()["tickets"]} == {"refunded"}
    assert (again.status_code, again.json()["status"]) == (200, "refunded")
    owner = await asyncpg.connect(stack.parts.database_url)
    try:
        refunds = await owner.fetch(
            "SELECT kind, status, amount_cents FROM refunds WHERE order_id = $1",
            uuid.UUID(order["order_id"]),
        )
    finally:
        await owner.close()
    assert [(row["kind"], row["status"]) for row in refunds] == [("fan_request", "succeeded")]
    assert refunds[0]["amount_cents"] == order["total_cents"]


async def test_a_refund_request_is_refused_when_no_window_is_open(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=20, seat_rows=0)
    await inventory_started(stack, event)
    fan = Fan(stack, event)
    order = await fan.purchase(1)
    path = f"/v1/orders/{order['order_id']}/refund-request"
    async with fan.client() as client:
        never_postponed = await client.post(path)
    await postpone(event)
    owner = await asyncpg.connect(stack.parts.database_url)
    try:
        await owner.execute(
            "UPDATE events SET refund_until = now() - interval '1 minute' WHERE id = $1",
            uuid.UUID(event.event_id),
        )
    finally:
        await owner.close()
    async with fan.client() as client:
        closed = await client.post(path)

    assert (never_postponed.status_code, error_code(never_postponed)) == (
        409,
        "REFUND_NOT_ALLOWED",
    )
    assert (closed.status_code, error_code(closed)) == (409, "REFUND_NOT_ALLOWED")
    assert (await fan.order(order["order_id"]))["status"] in {"paid", "fulfilled"}
