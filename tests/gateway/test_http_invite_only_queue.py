"""An invite-only queue over HTTP (`onsale.waiting_room.requires_code`): joining needs a valid code
of the event, a fan with a place joins again without one, and the setting is shown, and changed
only while the event is scheduled and only with the waiting room on."""

import datetime

import pytest

from gateway.auth import Role
from tests.gateway.http_journeys import Fan, create_event, error_code
from tests.gateway.queue_codes import add_code, join, joined, send
from tests.gateway.stack import Stack, event_body

pytestmark = pytest.mark.usefixtures("stack")
INVITE_ONLY = {"enabled": True, "admit_per_second": 50, "requires_code": True}


async def test_fan_gets_a_place_only_with_a_valid_code_when_the_queue_is_invite_only(
    stack: Stack,
) -> None:
    event = await create_event(stack, waiting_room=INVITE_ONLY)
    database_url = stack.parts.database_url
    await add_code(database_url, event, "Friends", kind="discount")
    await add_code(database_url, event, "OFF", active=False)
    await add_code(database_url, event, "LATER", valid_from=datetime.timedelta(hours=1))
    await add_code(database_url, event, "OVER", valid_until=datetime.timedelta(seconds=-1))
    fan = Fan(stack, event)

    without = await join(fan)
    unknown = await join(fan, "NOBODY")
    refused = {code: await join(fan, code) for code in ("OFF", "LATER", "OVER")}
    place = await joined(fan, "friends")
    again = await joined(fan)
    shown = await send(fan, "GET", f"/v1/events/{event.event_id}")

    assert (without.status_code, error_code(without)) == (403, "NOT_ADMITTED")
    assert (unknown.status_code, error_code(unknown)) == (409, "CODE_INVALID")
    for code, answer in refused.items():
        assert (answer.status_code, error_code(answer)) == (409, "CODE_INVALID"), code
    assert place["state"] in {"waiting", "admitted"}
    assert again["queue_id"] == place["queue_id"]
    assert shown.json()["onsale"]["waiting_room"] == {"enabled": True, "requires_code": True}


async def test_queue_becomes_invite_only_by_patch_only_while_the_event_is_scheduled(
    stack: Stack,
) -> None:
    scheduled = await create_event(
        stack, opens_in=datetime.timedelta(hours=1), waiting_room={"enabled": True}
    )
    on_sale = await create_event(stack, waiting_room={"enabled": True})
    patch = {"onsale": {"waiting_room": {"requires_code": True}}}

    async with scheduled.venue() as venue:
        changed = await venue.patch(f"/v1/venue/events/{scheduled.event_id}", json=patch)
        without_room = await venue.patch(
            f"/v1/venue/events/{scheduled.event_id}",
            json={"onsale": {"waiting_room": {"enabled": False}}},
        )
    async with on_sale.venue() as venue:
        too_late = await venue.patch(f"/v1/venue/events/{on_sale.event_id}", json=patch)
    fan = Fan(stack, scheduled)
    without_code = await join(fan)

    assert changed.status_code == 200, changed.text
    assert changed.json()["onsale"]["waiting_room"]["requires_code"] is True
    assert (without_room.status_code, error_code(without_room)) == (422, "VALIDATION_ERROR")
    assert without_room.json()["error"]["details"]["field"] == "onsale.waiting_room.requires_code"
    assert (too_late.status_code, error_code(too_late)) == (422, "VALIDATION_ERROR")
    assert too_late.json()["error"]["details"]["field"] == "onsale.waiting_room.requires_code"
    assert (without_code.status_code, error_code(without_code)) == (403, "NOT_ADMITTED")


async def test_event_is_refused_when_its_queue_is_invite_only_without_a_waiting_room(
    stack: Stack,
) -> None:
    body = event_body(waiting_room={"enabled": False, "requires_code": True})

    async with stack.client(stack.token(roles=(Role.VENUE_MANAGER,))) as venue:
        answer = await venue.post("/v1/venue/events", json=body)

    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert answer.json()["error"]["details"]["field"] == "onsale.waiting_room.requires_code"
