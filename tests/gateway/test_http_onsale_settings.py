"""PATCH of an event's on-sale settings over HTTP (API.md v1.1): every setting of creation may
change, each applies to what comes after it and shows at once in the venue's and the fans' views;
a bad body is refused whole, naming the field, and changes nothing."""

import asyncio
import datetime
import time
from typing import Any

import httpx
import pytest

from engine import limits
from gateway.auth import Role
from tests.gateway.http_journeys import (
    CREATED_EVENT_IDS,
    VENUE_ROLES,
    CreatedEvent,
    Fan,
    create_event,
    error_code,
    general_items,
)
from tests.gateway.stack import Stack, event_body, moment

pytestmark = pytest.mark.usefixtures("stack")
ADMISSION_TIMEOUT_S = 30.0
FULFILMENT_TIMEOUT_S = 60.0
ROOM = {"enabled": True, "admit_per_second": 100, "max_active_shoppers": 100}


def path_of(event: CreatedEvent) -> str:
    return f"/v1/venue/events/{event.event_id}"


def onsale(**settings: Any) -> dict[str, Any]:
    return {"onsale": settings}


async def patch(event: CreatedEvent, body: dict[str, Any]) -> httpx.Response:
    async with event.venue() as venue:
        return await venue.patch(path_of(event), json=body)


async def venue_view(event: CreatedEvent) -> dict[str, Any]:
    async with event.venue() as venue:
        answer = await venue.get(path_of(event))
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def hold(fan: httpx.AsyncClient, event: CreatedEvent, quantity: int) -> httpx.Response:
    return await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, quantity))


def instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def refused_naming(answer: httpx.Response, field: str) -> bool:
    return (
        answer.status_code == 422
        and error_code(answer) == "VALIDATION_ERROR"
        and answer.json()["error"]["details"].get("field") == field
    )


async def test_next_hold_past_a_lowered_limit_is_refused_when_older_holds_stay_usable(
    stack: Stack,
) -> None:
    event = await create_event(stack, max_tickets_per_user=6)
    buyer = Fan(stack, event)
    async with buyer.client() as fan:
        kept = await hold(fan, event, 4)

    lowered = await patch(event, onsale(max_tickets_per_user=2))
    async with buyer.client() as fan, stack.client(stack.token()) as other:
        refused = await hold(fan, event, 1)
        still = await fan.get(f"/v1/holds/{kept.json()['hold_id']}")
        within = await hold(other, event, 2)
        beyond = await hold(other, event, 1)
    checkout = await buyer.checkout(kept.json()["hold_id"])

    assert kept.status_code == 201, kept.text
    assert lowered.status_code == 200, lowered.text
    assert lowered.json()["onsale"]["max_tickets_per_user"] == 2
    assert (await venue_view(event))["onsale"]["max_tickets_per_user"] == 2
    assert (refused.status_code, error_code(refused)) == (409, "LIMIT_EXCEEDED")
    assert refused.json()["error"]["details"] == {"limit": 2, "already": 4}
    assert still.json()["status"] == "active"
    assert checkout["status"] == "pending_payment"
    assert within.status_code == 201
    assert (beyond.status_code, error_code(beyond)) == (409, "LIMIT_EXCEEDED")


async def test_new_holds_live_the_new_hold_ttl_when_older_holds_keep_their_expiry(
    stack: Stack,
) -> None:
    event = await create_event(stack, hold_ttl_s=600)
    async with stack.client(stack.token()) as fan:
        older = await hold(fan, event, 1)
        changed = await patch(event, onsale(hold_ttl_s=30))
        newer = await hold(fan, event, 1)
        older_again = await fan.get(f"/v1/holds/{older.json()['hold_id']}")

    older_expiry = instant(older.json()["expires_at"])
    newer_expiry = instant(newer.json()["expires_at"])
    assert changed.status_code == 200, changed.text
    assert changed.json()["onsale"]["hold_ttl_s"] == 30
    assert older_again.json()["expires_at"] == older.json()["expires_at"]
    assert older_expiry - newer_expiry > datetime.timedelta(seconds=500)
    now = datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(seconds=20) < newer_expiry - now <= datetime.timedelta(seconds=31)


async def test_hold_passes_again_when_closes_at_moves_later_after_the_sale_closed(
    stack: Stack,
) -> None:
    event = await create_event(stack)
    closed = await patch(
        event,
        onsale(
            opens_at=moment(datetime.timedelta(hours=-2)),
            closes_at=moment(datetime.timedelta(hours=-1)),
        ),
    )
    async with stack.client(stack.token()) as fan:
        refused = await hold(fan, event, 1)
        reopened = await patch(event, onsale(closes_at=moment(datetime.timedelta(days=1))))
        placed = await hold(fan, event, 1)

    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert (refused.status_code, error_code(refused)) == (409, "SALE_NOT_OPEN")
    assert reopened.json()["status"] == "on_sale"
    assert placed.status_code == 201, placed.text


async def test_sale_closes_and_opens_again_when_opens_at_moves(stack: Stack) -> None:
    event = await create_event(stack)
    later = moment(datetime.timedelta(hours=1))
    moved = await patch(event, onsale(opens_at=later))
    async with stack.client(stack.token()) as fan:
        refused = await hold(fan, event, 1)
        shown = (await fan.get(f"/v1/events/{event.event_id}")).json()
        back = await patch(event, onsale(opens_at=moment(datetime.timedelta(minutes=-5))))
        placed = await hold(fan, event, 1)
        shown_after = (await fan.get(f"/v1/events/{event.event_id}")).json()

    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "scheduled"
    shown_opening = instant(moved.json()["onsale"]["opens_at"])
    assert abs(shown_opening - instant(later)) < datetime.timedelta(milliseconds=1)
    assert (refused.status_code, error_code(refused)) == (409, "SALE_NOT_OPEN")
    assert shown["status"] == "scheduled"
    assert shown["onsale"]["opens_at"] == moved.json()["onsale"]["opens_at"]
    assert back.json()["status"] == "on_sale"
    assert placed.status_code == 201, placed.text
    assert shown_after["onsale"]["opens_at"] == back.json()["onsale"]["opens_at"]
    assert shown_after["onsale"]["closes_at"] == back.json()["onsale"]["closes_at"]


async def test_waiting_room_settings_show_in_the_venue_view_and_the_stats_when_patched(
    stack: Stack,
) -> None:
    event = await create_event(stack, waiting_room=ROOM)
    settings = {"admit_per_second": 7, "max_active_shoppers": 30, "access_ttl_s": 120}
    changed = await patch(event, onsale(waiting_room=settings))
    async with event.venue() as venue:
        stats = (await venue.get(f"{path_of(event)}/stats")).json()

    assert changed.status_code == 200, changed.text
    shown = {"enabled": True, "requires_code": False, **settings}
    assert changed.json()["onsale"]["waiting_room"] == shown
    assert (await venue_view(event))["onsale"]["waiting_room"] == shown
    assert {name: stats["queue"][name] for name in settings} == settings


async def poll_until_admitted(stack: Stack, token: str, event: CreatedEvent) -> str:
    deadline = time.monotonic() + ADMISSION_TIMEOUT_S
    async with stack.client(token) as fan:
        place = (await fan.post(f"/v1/events/{event.event_id}/queue")).json()
        while time.monotonic() < deadline:
            answer = await fan.get(f"/v1/events/{event.event_id}/queue/{place['queue_id']}")
            if answer.status_code == 200 and answer.json()["state"] == "admitted":
                access_token: str = answer.json()["access_token"]
                return access_token
            await asyncio.sleep(0.2)
    raise AssertionError("the fan was never admitted")


def token_expiry(access_token: str) -> datetime.datetime:
    """The expiry an access token carries: `wr1.<event>.<fan>.<expires_at_ms>.<mac>`."""
    return datetime.datetime.fromtimestamp(int(access_token.split(".")[3]) / 1_000, datetime.UTC)


async def test_new_access_ttl_applies_to_the_fans_admitted_after_it(stack: Stack) -> None:
    event = await create_event(stack, waiting_room=ROOM | {"access_ttl_s": 900})
    first_fan = stack.token()
    first = await poll_until_admitted(stack, first_fan, event)
    changed = await patch(event, onsale(waiting_room={"access_ttl_s": 120}))
    second = await poll_until_admitted(stack, stack.token(), event)
    first_again = await poll_until_admitted(stack, first_fan, event)

    now = datetime.datetime.now(datetime.UTC)
    assert changed.status_code == 200, changed.text
    assert first_again == first
    assert token_expiry(first) - now > datetime.timedelta(seconds=800)
    assert token_expiry(second) - now <= datetime.timedelta(seconds=120)


async def test_waiting_room_switch_is_refused_naming_it_when_the_sale_is_on(stack: Stack) -> None:
    event = await create_event(stack)
    refused = await patch(event, onsale(waiting_room={"enabled": True}))
    unchanged = await patch(event, onsale(waiting_room={"enabled": False}))

    assert refused_naming(refused, "onsale.waiting_room.enabled"), refused.text
    assert "scheduled" in refused.json()["error"]["message"]
    assert unchanged.status_code == 200
    assert (await venue_view(event))["onsale"]["waiting_room"]["enabled"] is False


async def test_joining_follows_the_switch_when_the_room_is_turned_on_and_off_while_scheduled(
    stack: Stack,
) -> None:
    event = await create_event(stack, opens_in=datetime.timedelta(hours=1))
    turned_on = await patch(event, onsale(waiting_room={"enabled": True, "admit_per_second": 9}))
    async with stack.client(stack.token()) as fan:
        shown = (await fan.get(f"/v1/events/{event.event_id}")).json()
        queued = await fan.post(f"/v1/events/{event.event_id}/queue")
        turned_off = await patch(event, onsale(waiting_room={"enabled": False}))
        admitted = await fan.post(f"/v1/events/{event.event_id}/queue")

    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json()["status"] == "scheduled"
    assert turned_on.json()["onsale"]["waiting_room"]["enabled"] is True
    assert turned_on.json()["onsale"]["waiting_room"]["admit_per_second"] == 9
    assert shown["onsale"]["waiting_room"] == {"enabled": True, "requires_code": False}
    assert queued.status_code == 200, queued.text
    assert (queued.json()["state"], queued.json()["access_token"]) == ("pre_queue", None)
    assert turned_off.status_code == 200, turned_off.text
    assert admitted.json()["state"] == "admitted" and admitted.json()["access_token"]


async def test_one_fan_holds_five_hundred_and_is_issued_them_when_created_without_a_limit(
    stack: Stack,
) -> None:
    event = await create_event(
        stack, general_capacity=1_000, seat_rows=0, max_tickets_per_user=None
    )
    buyer = Fan(stack, event)
    async with buyer.client() as fan:
        held = await hold(fan, event, 500)
    assert held.status_code == 201, held.text
    checkout = await buyer.checkout(held.json()["hold_id"])
    paid = await buyer.pay(checkout["order_id"])
    deadline = time.monotonic() + FULFILMENT_TIMEOUT_S
    order = await buyer.order(checkout["order_id"])
    while order["status"] != "fulfilled" and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        order = await buyer.order(checkout["order_id"])

    assert (await venue_view(event))["onsale"]["max_tickets_per_user"] is None
    assert sum(item["quantity"] for item in held.json()["items"]) == 500
    assert paid.status_code == 200, paid.text
    assert order["status"] == "fulfilled"
    assert len(order["tickets"]) == 500
    assert len({ticket["ticket_id"] for ticket in order["tickets"]}) == 500


async def test_one_fan_holds_five_hundred_when_the_limit_is_patched_away(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=1_000, max_tickets_per_user=6)
    async with stack.client(stack.token()) as fan:
        refused = await hold(fan, event, 500)
        lifted = await patch(event, onsale(max_tickets_per_user=None))
        held = await hold(fan, event, 500)

    assert (refused.status_code, error_code(refused)) == (409, "LIMIT_EXCEEDED")
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["onsale"]["max_tickets_per_user"] is None
    assert held.status_code == 201, held.text


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_tickets_per_user": limits.TICKETS_PER_USER_MAX + 1}, "onsale.max_tickets_per_user"),
        ({"max_tickets_per_user": 0}, "onsale.max_tickets_per_user"),
        ({"hold_ttl_s": limits.HOLD_TTL_S_MIN - 1}, "onsale.hold_ttl_s"),
        ({"hold_ttl_s": limits.HOLD_TTL_S_MAX + 1}, "onsale.hold_ttl_s"),
        ({"opens_at": "2026-01-01T00:00:00"}, "onsale.opens_at"),
        ({"waiting_room": {"access_ttl_s": 59}}, "onsale.waiting_room.access_ttl_s"),
        ({"waiting_room": {"max_active_shoppers": 0}}, "onsale.waiting_room.max_active_shoppers"),
        ({"colour": "red"}, "onsale.colour"),
        ({"waiting_room": {"size": 3}}, "onsale.waiting_room.size"),
    ],
)
async def test_patch_is_refused_naming_the_field_and_changes_nothing_when_a_value_is_not_allowed(
    stack: Stack, settings: dict[str, Any], field: str
) -> None:
    event = await create_event(stack, waiting_room=ROOM)
    before = await venue_view(event)

    answer = await patch(event, onsale(**settings))

    assert refused_naming(answer, field), answer.text
    assert await venue_view(event) == before


@pytest.mark.parametrize(
    ("limit", "accepted"),
    [(limits.TICKETS_PER_USER_MAX + 1, False), (0, False), (limits.TICKETS_PER_USER_MAX, True)],
)
async def test_creation_takes_a_limit_within_its_bounds_and_names_the_field_otherwise(
    stack: Stack, limit: int, accepted: bool
) -> None:
    async with stack.client(stack.token(roles=VENUE_ROLES)) as venue:
        answer = await venue.post("/v1/venue/events", json=event_body(max_tickets_per_user=limit))
    if answer.status_code == 201:
        CREATED_EVENT_IDS.append(answer.json()["event_id"])

    if accepted:
        assert answer.status_code == 201, answer.text
    else:
        assert refused_naming(answer, "onsale.max_tickets_per_user"), answer.text


async def test_closing_before_opening_is_refused_naming_the_field_it_moves(stack: Stack) -> None:
    event = await create_event(stack)
    before = await venue_view(event)

    early_close = await patch(event, onsale(closes_at=moment(datetime.timedelta(hours=-2))))
    late_open = await patch(event, onsale(opens_at=moment(datetime.timedelta(days=2))))
    both = await patch(
        event,
        onsale(
            opens_at=moment(datetime.timedelta(days=3)),
            closes_at=moment(datetime.timedelta(days=2)),
        ),
    )

    assert refused_naming(early_close, "onsale.closes_at"), early_close.text
    assert refused_naming(late_open, "onsale.opens_at"), late_open.text
    assert refused_naming(both, "onsale.closes_at"), both.text
    assert await venue_view(event) == before


async def test_whole_patch_is_refused_when_one_part_of_it_is_not_allowed(stack: Stack) -> None:
    event = await create_event(stack)
    before = await venue_view(event)

    answer = await patch(
        event,
        {
            "status": "paused",
            "transfers_allowed": False,
            "onsale": {
                "max_tickets_per_user": 1,
                "hold_ttl_s": 30,
                "waiting_room": {"enabled": True},
            },
        },
    )

    assert refused_naming(answer, "onsale.waiting_room.enabled"), answer.text
    assert await venue_view(event) == before


async def test_room_settings_given_without_a_room_are_kept_and_used_when_it_is_turned_on(
    stack: Stack,
) -> None:
    event = await create_event(stack, opens_in=datetime.timedelta(hours=1))
    settings = {"admit_per_second": 7, "max_active_shoppers": 30, "access_ttl_s": 120}
    kept = await patch(event, onsale(max_tickets_per_user=2, waiting_room=settings))
    flat = await patch(event, onsale(admit_per_second=8))
    turned_on = await patch(event, onsale(waiting_room={"enabled": True}))
    async with event.venue() as venue:
        stats = (await venue.get(f"{path_of(event)}/stats")).json()

    assert kept.status_code == 200, kept.text
    assert kept.json()["onsale"]["waiting_room"] == {
        "enabled": False,
        "requires_code": False,
        **settings,
    }
    assert kept.json()["onsale"]["max_tickets_per_user"] == 2
    assert flat.status_code == 200, flat.text
    assert turned_on.status_code == 200, turned_on.text
    used = settings | {"admit_per_second": 8}
    assert turned_on.json()["onsale"]["waiting_room"] == {
        "enabled": True,
        "requires_code": False,
        **used,
    }
    assert {name: stats["queue"][name] for name in used} == used


async def test_flat_rate_of_v1_changes_the_rate_and_must_agree_with_the_nested_one(
    stack: Stack,
) -> None:
    event = await create_event(stack, waiting_room=ROOM)

    flat = await patch(event, onsale(admit_per_second=11))
    same = await patch(event, onsale(admit_per_second=12, waiting_room={"admit_per_second": 12}))
    differing = await patch(
        event, onsale(admit_per_second=13, waiting_room={"admit_per_second": 14})
    )

    assert flat.json()["onsale"]["waiting_room"]["admit_per_second"] == 11
    assert same.json()["onsale"]["waiting_room"]["admit_per_second"] == 12
    assert refused_naming(differing, "onsale.admit_per_second"), differing.text
    assert (await venue_view(event))["onsale"]["waiting_room"]["admit_per_second"] == 12


async def test_another_tenants_event_is_not_found_and_unchanged_when_its_settings_are_patched(
    stack: Stack,
) -> None:
    event = await create_event(stack, waiting_room=ROOM)
    before = await venue_view(event)
    intruder = stack.token(roles=(Role.ADMIN,))

    async with stack.client(intruder) as client:
        answer = await client.patch(
            path_of(event),
            json=onsale(
                max_tickets_per_user=1,
                hold_ttl_s=30,
                closes_at=moment(datetime.timedelta(hours=2)),
                waiting_room={"admit_per_second": 1, "access_ttl_s": 60},
            ),
        )

    assert (answer.status_code, error_code(answer)) == (404, "NOT_FOUND")
    assert await venue_view(event) == before


async def test_openapi_publishes_the_bounds_of_the_onsale_settings(stack: Stack) -> None:
    async with stack.client() as client:
        schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    def bounds(schema: dict[str, Any]) -> tuple[object, object, bool]:
        options = schema.get("anyOf", [schema])
        numbers = [option for option in options if option.get("type") == "integer"]
        assert len(numbers) == 1, schema
        nullable = any(option.get("type") == "null" for option in options)
        return numbers[0].get("minimum"), numbers[0].get("maximum"), nullable

    per_fan = (1, limits.TICKETS_PER_USER_MAX, True)
    hold_ttl = (limits.HOLD_TTL_S_MIN, limits.HOLD_TTL_S_MAX, False)
    for body in ("OnsaleBody", "OnsalePatchBody"):
        properties = schemas[body]["properties"]
        assert bounds(properties["max_tickets_per_user"]) == per_fan, body
        assert bounds(properties["hold_ttl_s"]) == hold_ttl, body
        assert schemas[body]["additionalProperties"] is False, body
    for body in ("WaitingRoomSettingsBody", "WaitingRoomPatchBody"):
        properties = schemas[body]["properties"]
        assert bounds(properties["admit_per_second"])[:2] == (
            limits.ADMIT_PER_SECOND_MIN,
            limits.ADMIT_PER_SECOND_MAX,
        )
        assert bounds(properties["max_active_shoppers"])[:2] == (
            limits.MAX_ACTIVE_SHOPPERS_MIN,
            limits.MAX_ACTIVE_SHOPPERS_MAX,
        )
        assert bounds(properties["access_ttl_s"])[:2] == (
            limits.ACCESS_TTL_S_MIN,
            limits.ACCESS_TTL_S_MAX,
        )
    assert schemas["OnsalePatchBody"]["required"] == []
    assert bounds(schemas["ItemBody"]["properties"]["quantity"])[:2] == (
        1,
        limits.UNITS_PER_GENERAL_HOLD_MAX,
    )
    assert bounds(schemas["BestAvailableBody"]["properties"]["quantity"])[:2] == (
        1,
        limits.SEATS_PER_HOLD_MAX,
    )
