"""Ticket types' own sale windows over HTTP, on the session's real stack: while the event is on
sale, a hold of a type before or after its window is SALE_NOT_OPEN (general, seats, best
available, and a hold mixing types); GET /v1/events/{id} shows each type's window; a PATCH moves
a window or phases before the type's first sale and is refused, naming the field, after it."""

from typing import Any

import pytest

from actors.wall_clock import wall_clock_ms
from gateway.schemas import format_moment
from tests.gateway.http_journeys import CreatedEvent, Fan, error_code
from tests.gateway.stack import Stack
from tests.gateway.ticket_type_journeys import (
    answered,
    body_with,
    create_event_of,
    from_now,
    general,
    held,
    patched,
    place,
    priced,
    refused_event,
    shown_price_once,
    shown_type,
)

pytestmark = pytest.mark.usefixtures("stack")

HOUR_MS = 3_600_000


def window(from_ms: int | None = None, until_ms: int | None = None) -> dict[str, Any]:
    return {
        "on_sale_from": None if from_ms is None else format_moment(from_ms),
        "on_sale_until": None if until_ms is None else format_moment(until_ms),
    }


def seat_bodies(event: CreatedEvent) -> list[dict[str, Any]]:
    return [
        {"seats": ["101-A-1"]},
        {"best_available": {"ticket_type_id": event.reserved, "quantity": 1}},
    ]


async def refusals(fan: Fan, bodies: list[dict[str, Any]]) -> list[tuple[int, str]]:
    answers = [await place(fan, body) for body in bodies]
    return [(answer.status_code, error_code(answer)) for answer in answers]


async def test_holds_of_a_type_before_its_window_are_sale_not_open_while_the_event_is_on_sale(
    stack: Stack,
) -> None:
    later = window(from_ms=wall_clock_ms() + HOUR_MS)
    event = await create_event_of(stack, body_with(later, later))
    fan = Fan(stack, event)

    refused = await refusals(fan, [general(event, 1), *seat_bodies(event)])

    assert refused == [(409, "SALE_NOT_OPEN")] * 3
    assert (await shown_type(event, "GA"))["on_sale_from"] == later["on_sale_from"]


async def test_holds_of_a_type_after_its_window_are_sale_not_open_and_others_still_sell(
    stack: Stack,
) -> None:
    ended = window(until_ms=wall_clock_ms() - 1_000)
    event = await create_event_of(stack, body_with(None, ended))
    fan = Fan(stack, event)

    refused = await refusals(fan, seat_bodies(event))
    sold = await held(fan, general(event, 1))

    assert refused == [(409, "SALE_NOT_OPEN")] * 2
    assert priced(sold) == [(1, 5_000)]
    shown = await shown_type(event, "RES")
    assert (shown["on_sale_from"], shown["on_sale_until"]) == (None, ended["on_sale_until"])


async def test_a_general_hold_mixing_a_type_outside_its_window_is_sale_not_open(
    stack: Stack,
) -> None:
    body = body_with(window(from_ms=wall_clock_ms() + HOUR_MS), seat_rows=0)
    body["ticket_types"].append(
        {"key": "VIP", "name": "VIP", "kind": "general", "price_cents": 9_000, "capacity": 10}
    )
    event = await create_event_of(stack, body)
    fan = Fan(stack, event)
    items = [
        {"ticket_type_id": event.ticket_type_ids["VIP"], "quantity": 1},
        {"ticket_type_id": event.general, "quantity": 1},
    ]

    answer = await place(fan, {"items": items})

    assert (answer.status_code, error_code(answer)) == (409, "SALE_NOT_OPEN")
    assert answer.json()["error"]["details"] == {"ticket_type_ids": [event.general]}
    assert (await held(fan, {"items": items[:1]}))["subtotal_cents"] == 9_000


async def test_a_patch_opens_a_types_window_and_changes_its_phases_before_its_first_sale(
    stack: Stack,
) -> None:
    event = await create_event_of(stack, body_with(window(from_ms=wall_clock_ms() + HOUR_MS)))
    fan = Fan(stack, event)
    assert (await place(fan, general(event, 1))).status_code == 409
    phases = [{"price_cents": 3_000, "first": 1}, {"price_cents": 3_500}]

    answer = await patched(event, [{"key": "GA", "on_sale_from": None, "price_phases": phases}])

    assert answer.status_code == 200, answer.text
    shown = next(row for row in answer.json()["ticket_types"] if row["key"] == "GA")
    assert (shown["on_sale_from"], shown["price_cents"], shown["price_phases"]) == (
        None,
        3_000,
        phases,
    )
    assert priced(await held(fan, general(event, 2))) == [(1, 3_000), (1, 3_500)]
    await shown_price_once(event, "GA", 3_500)


async def test_a_patch_after_the_types_first_sale_is_refused_naming_the_field(
    stack: Stack,
) -> None:
    event = await create_event_of(stack, body_with())
    await held(Fan(stack, event), general(event, 1))
    phases = [{"price_cents": 1_000, "first": 1}, {"price_cents": 2_000}]

    refused = await patched(
        event,
        [{"key": "RES", "on_sale_until": from_now(hours=2)}, {"key": "GA", "price_phases": phases}],
    )
    unknown = await patched(event, [{"key": "NOPE", "price_phases": phases}])

    assert (refused.status_code, error_code(refused)) == (422, "VALIDATION_ERROR")
    assert refused.json()["error"]["details"]["field"] == "ticket_types[1].price_phases"
    assert "cannot change once the ticket type has sold or held" in refused.text
    assert (await shown_type(event, "RES"))["on_sale_until"] is None
    assert unknown.json()["error"]["details"]["field"] == "ticket_types[0].key"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"on_sale_from": from_now(days=-1)}, "ticket_types[0].on_sale_from"),
        ({"on_sale_until": from_now(days=2)}, "ticket_types[0].on_sale_until"),
        (
            {"on_sale_from": from_now(hours=2), "on_sale_until": from_now(hours=1)},
            "ticket_types[0].on_sale_until",
        ),
    ],
)
async def test_creation_is_refused_when_a_types_window_is_outside_the_events_or_reversed(
    stack: Stack, fields: dict[str, Any], field: str
) -> None:
    error = await refused_event(stack, body_with(fields))
    assert (error["code"], error["details"]["field"]) == ("VALIDATION_ERROR", field)


async def test_a_patch_window_outside_the_events_is_refused_naming_the_field(
    stack: Stack,
) -> None:
    event = await create_event_of(stack, body_with())
    answer = await patched(event, [{"key": "GA", "on_sale_until": from_now(days=3)}])
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert answer.json()["error"]["details"]["field"] == "ticket_types[0].on_sale_until"


async def test_a_wait_list_entry_is_not_offered_a_type_outside_its_window(stack: Stack) -> None:
    ended = window(until_ms=wall_clock_ms() - 1_000)
    body = body_with(None, ended, wait_list={"enabled": True, "offer_ttl_s": 60})
    event = await create_event_of(stack, body)
    url = f"/v1/events/{event.event_id}/wait-list"
    answers = []
    for ticket_type_id in (event.reserved, event.general):
        async with Fan(stack, event).client() as client:
            answers.append(
                await answered(
                    lambda client=client, wanted=ticket_type_id: client.post(
                        url, json={"quantity": 1, "ticket_type_id": wanted}
                    )
                )
            )

    assert [answer.status_code for answer in answers] == [201, 201], [a.text for a in answers]
    assert [answer.json()["status"] for answer in answers] == ["waiting", "offered"]
