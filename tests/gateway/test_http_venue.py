"""Venue endpoints over HTTP: creating events (with their webhook URL), the role and tenant fences,
pausing and pacing a sale, idempotent creation, and the stats with their stream."""

import asyncio
import json
import re
import uuid

import pytest

from gateway.auth import Role
from tests.gateway.http_journeys import (
    CREATED_EVENT_IDS,
    VENUE_ROLES,
    create_event,
    error_code,
    general_items,
)
from tests.gateway.stack import Stack, event_body

pytestmark = pytest.mark.usefixtures("stack")


async def test_event_is_created_with_its_ids_and_seat_count_when_a_manager_posts_it(
    stack: Stack,
) -> None:
    async with stack.client(stack.token(roles=VENUE_ROLES)) as client:
        answer = await client.post("/v1/venue/events", json=event_body(seat_rows=2))

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"event_id", "ticket_types", "seats"}
    assert [row["key"] for row in body["ticket_types"]] == ["GA", "RES"]
    assert body["seats"] == 20
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body: body.update(colour="red"), "unknown field"),
        (lambda body: body.update(name=7), "wrong type"),
        (lambda body: body["ticket_types"][0].update(capacity=-1), "negative capacity"),
        (lambda body: body["ticket_types"][1].update(capacity=5), "seated capacity"),
        (lambda body: body["onsale"].update(closes_at=body["onsale"]["opens_at"]), "closes"),
        (lambda body: body["ticket_types"].append(dict(body["ticket_types"][0])), "same key"),
        (lambda body: body.update(starts_at="2026-01-01T00:00:00"), "naive time"),
    ],
)
async def test_event_is_refused_and_nothing_created_when_the_body_is_invalid(
    stack: Stack, change: object, field: str
) -> None:
    token = stack.token(roles=VENUE_ROLES)
    body = event_body()
    change(body)  # type: ignore[operator]
    async with stack.client(token) as client:
        answer = await client.post("/v1/venue/events", json=body)
        listed = await client.get("/v1/venue/events")

    assert answer.status_code == 422, (field, answer.text)
    assert error_code(answer) == "VALIDATION_ERROR"
    assert listed.json() == {"events": []}


async def test_malformed_json_is_a_validation_error(stack: Stack) -> None:
    async with stack.client(stack.token(roles=VENUE_ROLES)) as client:
        answer = await client.post(
            "/v1/venue/events", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422 and error_code(answer) == "VALIDATION_ERROR"


async def test_fan_and_staff_are_forbidden_when_creating_events(stack: Stack) -> None:
    for roles in ((Role.FAN,), (Role.VENUE_STAFF,)):
        async with stack.client(stack.token(roles=roles)) as client:
            answer = await client.post("/v1/venue/events", json=event_body())
        assert answer.status_code == 403 and error_code(answer) == "FORBIDDEN"


async def test_another_tenants_event_is_not_found_for_every_venue_endpoint(stack: Stack) -> None:
    event = await create_event(stack)
    intruder = stack.token(roles=(Role.ADMIN,))
    path = f"/v1/venue/events/{event.event_id}"
    async with stack.client(intruder) as client:
        answers = [
            await client.get(path),
            await client.patch(path, json={"status": "paused"}),
            await client.get(f"{path}/stats"),
            await client.get(f"{path}/stats/stream"),
        ]
        listed = await client.get("/v1/venue/events")
    async with event.venue() as client:
        still = await client.get(path)

    assert [(answer.status_code, error_code(answer)) for answer in answers] == [
        (404, "NOT_FOUND")
    ] * 4
    assert listed.json() == {"events": []}
    assert still.json()["status"] == "on_sale"


async def test_creation_is_replayed_byte_for_byte_and_conflicts_on_another_body(
    stack: Stack,
) -> None:
    token = stack.token(roles=VENUE_ROLES)
    body = event_body()
    headers = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    async with stack.client(token) as client:
        first = await client.post("/v1/venue/events", json=body, headers=headers)
        again = await client.post("/v1/venue/events", json=body, headers=headers)
        other = await client.post(
            "/v1/venue/events", json=event_body(general_capacity=7), headers=headers
        )
        listed = await client.get("/v1/venue/events")

    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert other.status_code == 409 and error_code(other) == "IDEMPOTENCY_CONFLICT"
    assert [row["event_id"] for row in listed.json()["events"]] == [first.json()["event_id"]]


async def test_pause_stops_new_holds_and_resume_restarts_them(stack: Stack) -> None:
    event = await create_event(stack)
    path = f"/v1/venue/events/{event.event_id}"
    async with event.venue() as venue, stack.client(stack.token()) as fan:
        paused = await venue.patch(path, json={"status": "paused"})
        refused = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 1))
        resumed = await venue.patch(path, json={"status": "live"})
        placed = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 1))

    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert refused.status_code == 409 and error_code(refused) == "SALE_NOT_OPEN"
    assert resumed.json()["status"] == "on_sale"
    assert placed.status_code == 201


async def test_admission_rate_changes_when_patched_and_is_kept_for_later_without_a_room(
    stack: Stack,
) -> None:
    queued = await create_event(stack, waiting_room={"enabled": True, "admit_per_second": 5})
    plain = await create_event(stack)
    async with queued.venue() as venue:
        changed = await venue.patch(
            f"/v1/venue/events/{queued.event_id}", json={"onsale": {"admit_per_second": 80}}
        )
    async with plain.venue() as venue:
        kept = await venue.patch(
            f"/v1/venue/events/{plain.event_id}", json={"onsale": {"admit_per_second": 80}}
        )

    assert changed.status_code == 200, changed.text
    assert changed.json()["onsale"]["waiting_room"]["admit_per_second"] == 80
    assert kept.status_code == 200, kept.text
    assert kept.json()["onsale"]["waiting_room"]["enabled"] is False
    assert kept.json()["onsale"]["waiting_room"]["admit_per_second"] == 80


async def test_stats_add_up_and_follow_holds(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=50, seat_rows=1)
    async with stack.client(stack.token()) as fan:
        held = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 3))
    assert held.status_code == 201
    async with event.venue() as venue:
        for _ in range(40):
            stats = (await venue.get(f"/v1/venue/events/{event.event_id}/stats")).json()
            if stats["held"] == 3:
                break
            await asyncio.sleep(0.1)

    assert stats["held"] == 3 and stats["capacity"] == 60
    assert stats["sold"] + stats["held"] + stats["available"] == stats["capacity"]
    for row in stats["by_ticket_type"]:
        assert row["sold"] + row["held"] + row["available"] == row["capacity"]
    assert stats["status"] == "on_sale"
    assert set(stats["orders"]) >= {"pending_payment", "paid", "fulfilled", "payment_failed"}
    assert set(stats["mints"]) == {"pending", "minted", "failed"}


async def test_stats_stream_sends_a_data_line_each_second(stack: Stack) -> None:
    event = await create_event(stack)
    lines: list[dict[str, object]] = []
    async with (
        event.venue() as venue,
        venue.stream("GET", f"/v1/venue/events/{event.event_id}/stats/stream") as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        async for line in answer.aiter_lines():
            if line.startswith("data: "):
                lines.append(json.loads(line.removeprefix("data: ")))
            if len(lines) == 2:
                break

    assert [line["event_id"] for line in lines] == [event.event_id] * 2
    assert lines[0]["as_of"] != lines[1]["as_of"]


async def test_venue_view_shows_the_webhook_url_and_a_secret_when_an_event_names_a_url(
    stack: Stack,
) -> None:
    url = "https://venue.example.com/hooks/onsale?source=1"
    async with stack.client(stack.token(roles=VENUE_ROLES)) as venue:
        created = await venue.post("/v1/venue/events", json=event_body() | {"webhook_url": url})
        plain = await venue.post("/v1/venue/events", json=event_body())
        CREATED_EVENT_IDS.extend([created.json()["event_id"], plain.json()["event_id"]])
        shown = (await venue.get(f"/v1/venue/events/{created.json()['event_id']}")).json()
        listed = (await venue.get("/v1/venue/events")).json()["events"]

    assert created.status_code == 201, created.text
    assert shown["webhook_url"] == url
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", shown["webhook_secret"])
    secrets_by_url = {event["webhook_url"]: event["webhook_secret"] for event in listed}
    assert set(secrets_by_url) == {url, None}
    assert secrets_by_url[None].startswith("whsec_") and secrets_by_url[None] != secrets_by_url[url]


@pytest.mark.parametrize(
    "url",
    ["ftp://venue.example.com/", "https://", "https://venue.example.com:99999/", "http://a b/"],
)
async def test_event_is_refused_when_its_webhook_url_is_not_an_http_url(
    stack: Stack, url: str
) -> None:
    async with stack.client(stack.token(roles=VENUE_ROLES)) as client:
        answer = await client.post("/v1/venue/events", json=event_body() | {"webhook_url": url})

    assert answer.status_code == 422 and error_code(answer) == "VALIDATION_ERROR"
