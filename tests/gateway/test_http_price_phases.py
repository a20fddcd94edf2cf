"""Price phases over HTTP, on the session's real stack: units step at exactly `first` and a hold
straddling the boundary prices each unit by its phase, all the way to the order, Stripe and the
ledger; a phase ends at its `until`; a release steps the price back while other holds keep theirs;
and phases that break the rules are refused at creation."""

import asyncio
import datetime
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from actors.wall_clock import wall_clock_ms
from engine.pricing import price_order
from gateway.schemas import format_moment
from tests.gateway.http_journeys import Fan
from tests.gateway.stack import Stack
from tests.gateway.test_http_orders import ledger_of, stripe_client
from tests.gateway.ticket_type_journeys import (
    body_with,
    create_event_of,
    from_now,
    general,
    held,
    priced,
    refused_event,
    shown_price_once,
    shown_type,
)

pytestmark = pytest.mark.usefixtures("stack")

FIRST_PHASE = {"price_cents": 4_000, "first": 500}
LAST_PHASE = {"price_cents": 5_000}
# Long enough for a busy machine to create the event and place a hold before it.
UNTIL_AFTER_S = 8


@pytest.fixture
async def owner(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


def phased_body(phases: list[dict[str, Any]], **general_fields: Any) -> dict[str, Any]:
    return body_with(
        {"price_cents": None, "capacity": 1_000, "price_phases": phases, **general_fields},
        max_tickets_per_user=None,
        seat_rows=0,
    )


def three_phases() -> list[dict[str, Any]]:
    """500 units at 40.00, then 45.00 until twelve hours from now (to the millisecond, as the
    API writes it back), then 50.00."""
    until_ms = wall_clock_ms() + 12 * 3_600_000
    return [FIRST_PHASE, {"price_cents": 4_500, "until": format_moment(until_ms)}, LAST_PHASE]


async def test_units_step_at_exactly_first_and_the_order_stripe_and_ledger_take_each_price(
    stack: Stack, owner: asyncpg.Connection
) -> None:
    phases = three_phases()
    event = await create_event_of(stack, phased_body(phases))
    shown = await shown_type(event, "GA")
    assert shown["price_cents"] == 4_000
    assert shown["price_phases"] == phases

    first = await held(Fan(stack, event), general(event, 499))
    fan = Fan(stack, event)
    straddling = await held(fan, general(event, 2))

    assert priced(first) == [(499, 4_000)]
    assert priced(straddling) == [(1, 4_000), (1, 4_500)]
    assert straddling["subtotal_cents"] == 8_500
    await shown_price_once(event, "GA", 4_500)
    checkout = await fan.checkout(straddling["hold_id"])
    price = price_order(8_500)
    assert (checkout["subtotal_cents"], checkout["fees_cents"], checkout["total_cents"]) == (
        8_500,
        price.fees_cents,
        price.total_cents,
    )
    paid = await fan.pay(checkout["order_id"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["total_cents"] == price.total_cents
    assert len(paid.json()["tickets"]) == 2
    items = await owner.fetch(
        "SELECT quantity, unit_price_cents FROM order_items WHERE order_id = $1 "
        "ORDER BY unit_price_cents",
        uuid.UUID(checkout["order_id"]),
    )
    assert [(row["quantity"], row["unit_price_cents"]) for row in items] == [(1, 4_000), (1, 4_500)]
    intent = await stripe_client(stack).v1.payment_intents.retrieve_async(
        checkout["payment"]["payment_intent_id"]
    )
    assert intent.amount == price.total_cents
    ledger = await ledger_of(owner, checkout["order_id"])
    assert sum(ledger.values()) == 0
    assert ledger["venue_balance"] == -8_500
    assert ledger["processor_receivable"] == price.total_cents
    assert -ledger["platform_fees"] - ledger["processing_fees"] == price.fees_cents


async def test_the_price_steps_back_after_a_release_and_a_hold_keeps_the_prices_it_was_given(
    stack: Stack,
) -> None:
    event = await create_event_of(stack, phased_body(three_phases()))
    first_fan = Fan(stack, event)
    first = await held(first_fan, general(event, 499))
    second = await held(Fan(stack, event), general(event, 3))
    assert priced(second) == [(1, 4_000), (2, 4_500)]

    async with first_fan.client() as client:
        released = await client.delete(f"/v1/holds/{first['hold_id']}")
    assert released.status_code == 204, released.text
    await shown_price_once(event, "GA", 4_000)
    third = await held(Fan(stack, event), general(event, 2))

    assert priced(third) == [(2, 4_000)]
    assert third["subtotal_cents"] == 8_000


async def test_the_second_fans_hold_still_shows_its_prices_after_the_phase_moved_back(
    stack: Stack,
) -> None:
    event = await create_event_of(stack, phased_body(three_phases()))
    first_fan, second_fan = Fan(stack, event), Fan(stack, event)
    first = await held(first_fan, general(event, 499))
    second = await held(second_fan, general(event, 2))
    async with first_fan.client() as client:
        assert (await client.delete(f"/v1/holds/{first['hold_id']}")).status_code == 204
    await shown_price_once(event, "GA", 4_000)

    async with second_fan.client() as client:
        read = await client.get(f"/v1/holds/{second['hold_id']}")
    assert read.status_code == 200, read.text
    assert priced(read.json()) == [(1, 4_000), (1, 4_500)]
    checkout = await second_fan.checkout(second["hold_id"])
    assert checkout["subtotal_cents"] == 8_500


async def test_a_phase_ends_at_its_until(stack: Stack) -> None:
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=UNTIL_AFTER_S)
    phases = [{"price_cents": 4_000, "until": until.isoformat()}, LAST_PHASE]
    event = await create_event_of(stack, phased_body(phases))
    before = await held(Fan(stack, event), general(event, 1))
    placed_before_until = datetime.datetime.now(datetime.UTC) < until
    assert placed_before_until, "the machine took longer than the phase to place one hold"
    assert priced(before) == [(1, 4_000)]

    await asyncio.sleep(max(0.0, (until - datetime.datetime.now(datetime.UTC)).total_seconds()))
    started = time.monotonic()
    await shown_price_once(event, "GA", 5_000)
    after = await held(Fan(stack, event), general(event, 1))

    assert priced(after) == [(1, 5_000)]
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("general_fields", "field"),
    [
        ({"price_cents": None}, "ticket_types[0].price_cents"),
        (
            {"price_cents": 3_999, "price_phases": [FIRST_PHASE, LAST_PHASE]},
            "ticket_types[0].price_cents",
        ),
        ({"price_phases": [FIRST_PHASE]}, "ticket_types[0].price_phases"),
        ({"price_phases": [{"price_cents": 1}, LAST_PHASE]}, "ticket_types[0].price_phases"),
        (
            {
                "price_phases": [
                    {"price_cents": 1, "first": 2, "until": from_now(hours=1)},
                    LAST_PHASE,
                ]
            },
            "ticket_types[0].price_phases",
        ),
    ],
)
async def test_creation_is_refused_naming_the_field_when_the_phases_break_a_rule(
    stack: Stack, general_fields: dict[str, Any], field: str
) -> None:
    error = await refused_event(stack, body_with(general_fields, seat_rows=0))
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field, error


async def test_creation_is_refused_when_untils_do_not_increase(stack: Stack) -> None:
    phases = [
        {"price_cents": 1, "until": from_now(hours=2)},
        {"price_cents": 2, "until": from_now(hours=1)},
        LAST_PHASE,
    ]
    error = await refused_event(stack, phased_body(phases))
    assert error["details"]["field"] == "ticket_types[0].price_phases"
    assert "until must be after" in error["message"]


async def test_creation_is_refused_when_there_are_too_many_phases(stack: Stack) -> None:
    phases = [{"price_cents": 1, "first": 1} for _ in range(10)] + [LAST_PHASE]
    error = await refused_event(stack, phased_body(phases))
    assert error["code"] == "VALIDATION_ERROR"
