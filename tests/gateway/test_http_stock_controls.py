"""A venue's stock controls over real HTTP: blocked seats and withheld units leave the sale and
show as `blocked` in the stats (so `sold + held + blocked + available == capacity` always), the
seat map and best available skip blocked seats, capacity grows for general admission only, a new
price applies to later holds only, comps draw on withheld stock; with the roles, the tenant
fence, the errors, the Idempotency-Key, and what Postgres holds once the actor is rebuilt."""

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
import ray

from actors.names import NAMESPACE, inventory_actor_name
from gateway.auth import Role
from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, error_code
from tests.gateway.stack import Stack
from tests.gateway.stock_journeys import control, controlled, seat_marks, stats

pytestmark = pytest.mark.usefixtures("stack")
REBUILD_POLLS_MAX = 300
REBUILD_POLL_INTERVAL_S = 0.1


async def fan_hold(fan: Fan, body: dict[str, Any]) -> Any:
    """A hold under a key of its own, so a slow actor start is retried rather than refused."""
    key = uuid.uuid4().hex
    async with fan.stack.client(fan.token, **{"Idempotency-Key": key}) as client:
        return await client.post(f"/v1/events/{fan.event.event_id}/holds", json=body)


def general(event: CreatedEvent, quantity: int) -> dict[str, Any]:
    return {"items": [{"ticket_type_id": event.general, "quantity": quantity}]}


async def general_hold_id(fan: Fan, quantity: int) -> str:
    answer = await fan_hold(fan, general(fan.event, quantity))
    assert answer.status_code == 201, answer.text
    hold_id: str = answer.json()["hold_id"]
    return hold_id


async def test_blocked_seats_leave_the_seat_map_and_best_available_until_unblocked(
    stack: Stack,
) -> None:
    event = await create_event(stack, seat_rows=1, seats_per_row=4)
    fan = Fan(stack, event)
    figures = await controlled(
        event, {"block": {"seats": ["101-A-2", "101-A-3"], "reason": "kill"}}
    )
    assert figures["ticket_type_id"] == event.reserved and figures["key"] == "RES"
    assert (figures["capacity"], figures["blocked"], figures["available"]) == (4, 2, 2)
    seen = await stats(event)
    assert (seen["blocked"], seen["types"]["RES"]["blocked"], seen["capacity"]) == (2, 2, 204)
    marks = await seat_marks(event, fan.token)
    assert [marks[f"101-A-{n}"]["status"] for n in range(1, 5)] == [
        "available",
        "unavailable",
        "unavailable",
        "available",
    ]
    best = {"best_available": {"ticket_type_id": event.reserved, "quantity": 2}}
    assert error_code(await fan_hold(fan, best)) == "SOLD_OUT"
    named = await fan_hold(fan, {"seats": ["101-A-2"]})
    assert (named.status_code, error_code(named)) == (409, "SEAT_UNAVAILABLE")

    again = await control(event, {"block": {"seats": ["101-A-3", "101-A-4"]}})
    assert (again.status_code, error_code(again)) == (409, "SEAT_UNAVAILABLE")
    assert again.json()["error"]["details"]["seats"] == ["101-A-3"]
    unblocked = await controlled(event, {"unblock": {"seats": ["101-A-2", "101-A-3"]}})
    assert (unblocked["blocked"], unblocked["available"]) == (0, 4)
    held = await fan_hold(fan, best)
    assert held.status_code == 201, held.text
    assert held.json()["seats"] == ["101-A-1", "101-A-2"]


async def test_seat_controls_refuse_taken_unknown_and_unblocked_seats(stack: Stack) -> None:
    event = await create_event(stack, seat_rows=1, seats_per_row=4)
    held = await fan_hold(Fan(stack, event), {"seats": ["101-A-1"]})
    assert held.status_code == 201, held.text
    before = await stats(event)
    taken = await control(event, {"block": {"seats": ["101-A-1", "101-A-2"]}})
    unknown_row = await control(event, {"block": {"seats": ["101-Z-1"]}})
    unknown_section = await control(event, {"block": {"seats": ["999-A-1"]}})
    not_blocked = await control(event, {"unblock": {"seats": ["101-A-2"]}})
    bad_reason = await control(event, {"block": {"seats": ["101-A-2"], "reason": "friends"}})
    assert (taken.status_code, error_code(taken)) == (409, "SEAT_UNAVAILABLE")
    assert taken.json()["error"]["details"]["seats"] == ["101-A-1"]
    for refused in (unknown_row, unknown_section, bad_reason):
        assert (refused.status_code, error_code(refused)) == (422, "VALIDATION_ERROR")
    assert error_code(not_blocked) == "SEAT_UNAVAILABLE"
    assert unknown_section.json()["error"]["details"]["seats"] == ["999-A-1"]
    after = await stats(event)
    assert after["types"] == before["types"]


async def test_withheld_units_show_as_blocked_and_come_back_when_released(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=10, seat_rows=1)
    withheld = await controlled(
        event, {"withhold": {"ticket_type_id": event.general, "quantity": 4, "reason": "press"}}
    )
    assert (withheld["capacity"], withheld["blocked"], withheld["available"]) == (10, 4, 6)
    await controlled(event, {"withhold": {"ticket_type_id": event.general, "quantity": 1}})
    more = await control(event, {"withhold": {"ticket_type_id": event.general, "quantity": 6}})
    too_many = await control(event, {"release": {"ticket_type_id": event.general, "quantity": 6}})
    seated = await control(event, {"withhold": {"ticket_type_id": event.reserved, "quantity": 1}})
    unknown = await control(
        event, {"withhold": {"ticket_type_id": str(uuid.uuid4()), "quantity": 1}}
    )
    assert (more.status_code, error_code(more)) == (409, "SOLD_OUT")
    for refused in (too_many, seated, unknown):
        assert (refused.status_code, error_code(refused)) == (422, "VALIDATION_ERROR")
    assert (await stats(event))["types"]["GA"]["blocked"] == 5

    released = await controlled(
        event, {"release": {"ticket_type_id": event.general, "quantity": 2}}
    )
    assert (released["blocked"], released["available"]) == (3, 7)
    from_press = await control(
        event, {"release": {"ticket_type_id": event.general, "quantity": 4, "reason": "press"}}
    )
    assert error_code(from_press) == "VALIDATION_ERROR"


async def test_a_control_body_gives_exactly_one_known_control(stack: Stack) -> None:
    event = await create_event(stack, seat_rows=0)
    general = event.general
    bodies: list[dict[str, Any]] = [
        {},
        {
            "withhold": {"ticket_type_id": general, "quantity": 1},
            "add_capacity": {"ticket_type_id": general, "quantity": 1},
        },
        {"withhold": {"ticket_type_id": general, "quantity": 1, "colour": "red"}},
        {"resize": {"ticket_type_id": general, "quantity": 1}},
        {"add_capacity": {"ticket_type_id": general, "quantity": 0}},
        {"price": {"ticket_type_id": general, "price_cents": -1}},
    ]
    for body in bodies:
        answer = await control(event, body)
        assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR"), body
    assert (await stats(event))["types"]["GA"]["capacity"] == 200


async def test_capacity_grows_for_general_admission_and_is_refused_for_seated(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=2, seat_rows=1)
    fan = Fan(stack, event)
    await general_hold_id(fan, 2)
    grown = await controlled(
        event, {"add_capacity": {"ticket_type_id": event.general, "quantity": 3}}
    )
    assert (grown["capacity"], grown["held"], grown["available"]) == (5, 2, 3)
    seated = await control(
        event, {"add_capacity": {"ticket_type_id": event.reserved, "quantity": 1}}
    )
    assert (seated.status_code, error_code(seated)) == (422, "VALIDATION_ERROR")
    await general_hold_id(Fan(stack, event), 3)
    beyond = await fan_hold(Fan(stack, event), general(event, 1))
    assert (beyond.status_code, error_code(beyond)) == (409, "SOLD_OUT")


async def test_new_price_applies_to_later_holds_and_earlier_holds_keep_theirs(
    stack: Stack,
) -> None:
    event = await create_event(stack, seat_rows=0)
    early, late = Fan(stack, event), Fan(stack, event)
    early_hold = await general_hold_id(early, 1)
    priced = await controlled(
        event, {"price": {"ticket_type_id": event.general, "price_cents": 6_500}}
    )
    assert priced["price_cents"] == 6_500
    late_hold = await general_hold_id(late, 1)
    async with early.client() as client:
        kept = (await client.get(f"/v1/holds/{early_hold}")).json()
        shown = (await client.get(f"/v1/events/{event.event_id}")).json()
    async with late.client() as client:
        new = (await client.get(f"/v1/holds/{late_hold}")).json()
    assert kept["items"][0]["unit_price_cents"] == 5_000
    assert new["items"][0]["unit_price_cents"] == 6_500
    assert [row["price_cents"] for row in shown["ticket_types"]] == [6_500]
    checkout = await early.checkout(early_hold)
    assert checkout["subtotal_cents"] == 5_000


async def test_only_managers_and_admins_of_the_tenant_control_stock(stack: Stack) -> None:
    tenant_id = uuid.uuid4()
    manager = stack.token(roles=(Role.VENUE_MANAGER,), tenant_id=tenant_id)
    event = await create_event(stack, manager, seat_rows=0)
    body = {"withhold": {"ticket_type_id": event.general, "quantity": 1}}
    for role, expected in (
        (Role.FAN, (403, "FORBIDDEN")),
        (Role.VENUE_STAFF, (403, "FORBIDDEN")),
    ):
        async with stack.client(stack.token(roles=(role,), tenant_id=tenant_id)) as client:
            answer = await control(event, body, client)
        assert (answer.status_code, error_code(answer)) == expected, role
    async with stack.client(stack.token(roles=(Role.VENUE_MANAGER,))) as stranger:
        answer = await control(event, body, stranger)
    assert (answer.status_code, error_code(answer)) == (404, "NOT_FOUND")
    assert (await stats(event))["blocked"] == 0
    async with stack.client(stack.token(roles=(Role.ADMIN,), tenant_id=tenant_id)) as admin:
        answer = await control(event, body, admin)
    assert answer.status_code == 200, answer.text
    assert (await stats(event))["blocked"] == 1


async def test_a_control_sent_again_under_its_key_is_applied_once(stack: Stack) -> None:
    event = await create_event(stack, seat_rows=0)
    body = {"withhold": {"ticket_type_id": event.general, "quantity": 3}}
    path = f"/v1/venue/events/{event.event_id}/inventory"
    async with stack.client(event.venue_token, **{"Idempotency-Key": "withhold-1"}) as venue:
        first = await venue.post(path, json=body)
        second = await venue.post(path, json=body)
        other = await venue.post(
            path, json={"withhold": {"ticket_type_id": event.general, "quantity": 4}}
        )
    assert first.status_code == second.status_code == 200, first.text
    assert first.json() == second.json()
    assert (other.status_code, error_code(other)) == (409, "IDEMPOTENCY_CONFLICT")
    assert (await stats(event))["types"]["GA"]["blocked"] == 3


async def test_comps_given_from_withheld_stock_draw_it_down(stack: Stack) -> None:
    event = await create_event(stack, seat_rows=1, seats_per_row=4)
    guest = Fan(stack, event)
    await controlled(
        event, {"withhold": {"ticket_type_id": event.general, "quantity": 3, "reason": "comps"}}
    )
    await controlled(event, {"block": {"seats": ["101-A-1"], "reason": "press"}})
    to_guest = {"to_user_id": guest.user_id, "to_tenant_id": str(guest.tenant_id)}
    async with event.venue() as venue:
        path = f"/v1/venue/events/{event.event_id}/comps"
        units = await venue.post(
            path,
            json=to_guest
            | {
                "reason": "vip_guest",
                "source": "set_aside",
                "items": [{"ticket_type_id": event.general, "quantity": 2}],
            },
        )
        seat = await venue.post(
            path,
            json=to_guest | {"reason": "press", "source": "set_aside", "seats": ["101-A-1"]},
        )
        beyond = await venue.post(
            path,
            json=to_guest
            | {
                "reason": "staff",
                "source": "set_aside",
                "items": [{"ticket_type_id": event.general, "quantity": 2}],
            },
        )
    assert units.status_code == 201, units.text
    assert seat.status_code == 201, seat.text
    assert (beyond.status_code, error_code(beyond)) == (409, "SOLD_OUT")
    seen = await stats(event)
    assert (seen["types"]["GA"]["blocked"], seen["types"]["GA"]["sold"]) == (1, 2)
    assert (seen["types"]["RES"]["blocked"], seen["types"]["RES"]["sold"]) == (0, 1)


STORED_STOCK = """
SELECT ticket_types.key, ticket_types.capacity, ticket_types.price_cents,
       coalesce((SELECT sum(quantity) FROM withheld_units
                 WHERE withheld_units.ticket_type_id = ticket_types.id), 0) AS withheld,
       (SELECT count(*) FROM seats WHERE seats.ticket_type_id = ticket_types.id
          AND seats.state NOT IN ('available', 'held', 'sold')) AS blocked_seats
FROM ticket_types WHERE event_id = $1 ORDER BY key
"""


async def test_every_control_is_in_postgres_and_survives_a_rebuilt_actor(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=10, seat_rows=1, seats_per_row=4)
    await controlled(event, {"block": {"seats": ["101-A-4"]}})
    await controlled(event, {"withhold": {"ticket_type_id": event.general, "quantity": 2}})
    await controlled(event, {"add_capacity": {"ticket_type_id": event.general, "quantity": 5}})
    await controlled(event, {"price": {"ticket_type_id": event.general, "price_cents": 7_000}})
    before = await stats(event)
    connection = await asyncpg.connect(stack.parts.database_url)
    try:
        rows = await connection.fetch(STORED_STOCK, uuid.UUID(event.event_id))
    finally:
        await connection.close()
    assert [tuple(row) for row in rows] == [("GA", 15, 7_000, 2, 0), ("RES", 4, 8_000, 0, 1)]

    actor = await asyncio.to_thread(ray.get_actor, inventory_actor_name(event.event_id), NAMESPACE)
    await asyncio.to_thread(ray.kill, actor, no_restart=False)
    fan = Fan(stack, event)
    hold = None
    for _ in range(REBUILD_POLLS_MAX):
        hold = await fan_hold(fan, general(event, 1))
        if hold.status_code != 503:
            break
        await asyncio.sleep(REBUILD_POLL_INTERVAL_S)
    assert hold is not None and hold.status_code == 201, hold and hold.text
    assert hold.json()["items"][0]["unit_price_cents"] == 7_000
    after = await stats(event)
    for key in ("GA", "RES"):
        expected = dict(before["types"][key])
        if key == "GA":
            expected["held"] += 1
            expected["available"] -= 1
        assert after["types"][key] == expected
    blocked = await fan_hold(fan, {"seats": ["101-A-4"]})
    assert error_code(blocked) == "SEAT_UNAVAILABLE"
