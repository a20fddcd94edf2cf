"""Codes over HTTP, on the session's real stack: a venue makes codes (one, or a generated batch),
lists them with their tallies and turns them off; fans see hidden types and discounted prices
with a valid code, hold with it, and are refused CODE_INVALID or CODE_EXHAUSTED by the rules; an
order placed with a discount is paid to the cent."""

import datetime
import uuid
from typing import Any

import asyncpg
import pytest

from engine.pricing import price_order
from gateway.auth import Role
from tests.gateway.code_journeys import (
    GENERAL_PRICE_CENTS,
    coded_event,
    held_with,
    hold_with,
    in_minutes,
    made_code,
    make_code,
    release,
    venue_codes,
)
from tests.gateway.http_journeys import CreatedEvent, Fan, error_code
from tests.gateway.stack import Stack, event_body

pytestmark = pytest.mark.usefixtures("stack")
# Half of 12,345 is 6,172.5, rounded half to even: 6,172 off.
HALF_OFF_VIP_CENTS = 6_172


@pytest.fixture
async def owner(stack: Stack) -> Any:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


async def test_a_code_is_made_as_given_and_is_unique_per_event_whatever_its_case(
    stack: Stack,
) -> None:
    event = await coded_event(stack)
    made = await made_code(
        event,
        code="FanClub",
        kind="presale",
        unlocks=["VIP"],
        applies_to=["GA", "VIP"],
        valid_from=in_minutes(-5),
        max_uses=1000,
        max_uses_per_fan=4,
        discount={"percent": 10},
    )
    assert uuid.UUID(made["code_id"])
    assert made | {"code_id": None, "valid_from": None} == {
        "code_id": None,
        "code": "FanClub",
        "kind": "presale",
        "unlocks": ["VIP"],
        "applies_to": ["GA", "VIP"],
        "valid_from": None,
        "valid_until": None,
        "max_uses": 1000,
        "max_uses_per_fan": 4,
        "discount": {"percent": 10},
        "active": True,
        "uses": 0,
        "held": 0,
    }
    duplicate = await make_code(event, code="FANCLUB")
    assert duplicate.status_code == 409 and error_code(duplicate) == "CODE_EXISTS"
    assert duplicate.json()["error"]["details"]["codes"] == ["FANCLUB"]
    other_event = await coded_event(stack)
    assert (await made_code(other_event, code="fanclub"))["code"] == "fanclub"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "code": "A",
                "unlocks": ["NOPE"],
                "kind": "presale",
                "valid_from": "2030-01-01T00:00:00Z",
            },
            "unlocks",
        ),
        ({"code": "A", "applies_to": ["NOPE"]}, "applies_to"),
        ({"code": "A", "discount": {"percent": 0}}, "discount.percent"),
        ({"code": "A", "discount": {"percent": 101}}, "discount.percent"),
        ({"code": "A", "discount": {"percent": 5, "amount_cents": 100}}, "discount"),
        ({"code": "A", "discount": None}, "discount"),
        ({"code": "A", "kind": "presale", "discount": None}, "valid_from"),
        ({"code": "A", "unlocks": ["VIP"]}, "unlocks"),
        (
            {
                "code": "A",
                "valid_from": "2030-01-02T00:00:00Z",
                "valid_until": "2030-01-01T00:00:00Z",
            },
            "valid_until",
        ),
        ({}, "code"),
        ({"code": "A", "generate": 2}, "code"),
        ({"generate": 0}, "generate"),
        ({"generate": 10_001}, "generate"),
        ({"generate": 2, "max_uses": 5}, "max_uses"),
        ({"code": "A", "prefix": "P"}, "prefix"),
        ({"code": "A", "max_uses": 0}, "max_uses"),
        ({"code": "x" * 65}, "code"),
    ],
)
async def test_a_code_that_cannot_work_is_a_validation_error_naming_its_field(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    event = await coded_event(stack)
    answer = await make_code(event, **body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"].get("field") == field, answer.text


async def test_codes_are_fenced_to_their_venue_and_need_a_venue_role(stack: Stack) -> None:
    event = await coded_event(stack)
    stranger = stack.token(roles=(Role.VENUE_MANAGER,))
    async with stack.client(stranger) as client:
        answer = await client.post(
            f"/v1/venue/events/{event.event_id}/codes",
            json={"code": "A", "kind": "discount", "discount": {"percent": 5}},
        )
        listed = await client.get(f"/v1/venue/events/{event.event_id}/codes")
    assert answer.status_code == 404 and listed.status_code == 404
    fan = Fan(stack, event)
    async with fan.client() as client:
        answer = await client.get(f"/v1/venue/events/{event.event_id}/codes")
    assert answer.status_code == 403


async def test_a_discount_code_lowers_the_hold_and_the_order_is_paid_to_the_cent(
    stack: Stack, owner: asyncpg.Connection
) -> None:
    event = await coded_event(stack)
    await made_code(event, code="TENOFF", applies_to=["GA"], discount={"amount_cents": 1_005})
    fan = Fan(stack, event)
    hold = await held_with(fan, "tenoff", quantity=3)
    unit = GENERAL_PRICE_CENTS - 1_005
    assert hold["items"][0]["unit_price_cents"] == unit
    assert hold["subtotal_cents"] == 3 * unit
    assert hold["code"] == "tenoff"
    async with fan.client() as client:
        read = (await client.get(f"/v1/holds/{hold['hold_id']}")).json()
    assert read["code"] == "TENOFF" and read["subtotal_cents"] == 3 * unit
    checkout = await fan.checkout(hold["hold_id"])
    price = price_order(3 * unit)
    assert (checkout["subtotal_cents"], checkout["total_cents"]) == (
        price.subtotal_cents,
        price.total_cents,
    )
    paid = await fan.pay(checkout["order_id"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["total_cents"] == price.total_cents
    rows = await owner.fetch(
        """
        SELECT account,
               sum(CASE direction WHEN 'debit' THEN amount_cents ELSE -amount_cents END) AS net
        FROM ledger_entries WHERE order_id = $1 GROUP BY account
        """,
        uuid.UUID(checkout["order_id"]),
    )
    ledger = {row["account"]: row["net"] for row in rows}
    assert ledger["venue_balance"] == -price.subtotal_cents
    assert ledger["processor_receivable"] == price.total_cents
    listed = await venue_codes(event)
    assert [(code["code"], code["uses"], code["held"]) for code in listed["codes"]] == [
        ("TENOFF", 1, 0)
    ]


async def test_a_hidden_type_shows_and_sells_only_with_a_code_that_unlocks_it(
    stack: Stack,
) -> None:
    event = await coded_event(stack)
    vip = event.ticket_type_ids["VIP"]
    await made_code(
        event,
        code="Backstage",
        kind="presale",
        unlocks=["VIP"],
        valid_from=in_minutes(-5),
        discount={"percent": 50},
    )
    await made_code(event, code="GAONLY", applies_to=["GA"])
    fan = Fan(stack, event)
    async with fan.client() as client:
        plain = (await client.get(f"/v1/events/{event.event_id}")).json()
        coded = (
            await client.get(f"/v1/events/{event.event_id}", params={"code": "backstage"})
        ).json()
        wrong = (await client.get(f"/v1/events/{event.event_id}", params={"code": "nope"})).json()
    assert vip not in {row["id"] for row in plain["ticket_types"]} and "code" not in plain
    assert coded["code"] == {"valid": True}
    prices = {row["key"]: row["price_cents"] for row in coded["ticket_types"]}
    assert prices == {"GA": 2_500, "RES": 4_000, "VIP": HALF_OFF_VIP_CENTS}
    assert wrong["code"] == {"valid": False, "reason": "unknown"}
    assert wrong["ticket_types"] == plain["ticket_types"]
    async with event.venue() as client:
        venue_view = (await client.get(f"/v1/venue/events/{event.event_id}")).json()
    assert {row["key"]: row["hidden"] for row in venue_view["ticket_types"]}["VIP"] is True

    without = await hold_with(fan, None, vip)
    assert without.status_code == 422 and error_code(without) == "VALIDATION_ERROR"
    not_unlocking = await hold_with(fan, "GAONLY", vip)
    assert not_unlocking.status_code == 409 and error_code(not_unlocking) == "CODE_INVALID"
    hold = await held_with(fan, "BACKSTAGE", ticket_type_id=vip, quantity=1)
    assert hold["items"][0]["unit_price_cents"] == HALF_OFF_VIP_CENTS


@pytest.mark.parametrize("case", ["unknown", "inactive", "before", "after", "not applicable"])
async def test_an_invalid_code_is_refused_code_invalid(stack: Stack, case: str) -> None:
    event = await coded_event(stack)
    every_terms: dict[str, dict[str, Any]] = {
        "unknown": {"code": "OTHER"},
        "inactive": {"code": "SPRING"},
        "before": {"code": "SPRING", "valid_from": in_minutes(30)},
        "after": {"code": "SPRING", "valid_from": in_minutes(-30), "valid_until": in_minutes(-10)},
        "not applicable": {"code": "SPRING", "applies_to": ["RES"]},
    }
    terms = every_terms[case]
    made = await made_code(event, **terms)
    if case == "inactive":
        async with event.venue() as client:
            changed = await client.patch(
                f"/v1/venue/events/{event.event_id}/codes/{made['code_id']}",
                json={"active": False},
            )
        assert changed.status_code == 200, changed.text
        assert changed.json()["active"] is False
    answer = await hold_with(Fan(stack, event), "spring")
    assert answer.status_code == 409, answer.text
    assert error_code(answer) == "CODE_INVALID"


async def test_the_total_cap_counts_live_holds_a_release_gives_a_use_back_a_payment_keeps_it(
    stack: Stack,
) -> None:
    event = await coded_event(stack)
    await made_code(event, code="ONCE", max_uses=1)
    first, second, third = (Fan(stack, event) for _ in range(3))
    hold = await held_with(first, "once")
    refused = await hold_with(second, "once")
    assert refused.status_code == 409 and error_code(refused) == "CODE_EXHAUSTED"
    assert [(c["uses"], c["held"]) for c in (await venue_codes(event))["codes"]] == [(0, 1)]
    await release(first, hold["hold_id"])
    kept = await held_with(second, "ONCE")
    checkout = await second.checkout(kept["hold_id"])
    assert (await second.pay(checkout["order_id"])).status_code == 200
    refused = await hold_with(third, "once")
    assert refused.status_code == 409 and error_code(refused) == "CODE_EXHAUSTED"
    assert [(c["uses"], c["held"]) for c in (await venue_codes(event))["codes"]] == [(1, 0)]
    async with third.client() as client:
        check = (await client.get(f"/v1/events/{event.event_id}", params={"code": "once"})).json()
    assert check["code"] == {"valid": False, "reason": "exhausted"}


async def test_the_per_fan_cap_counts_only_that_fans_holds(stack: Stack) -> None:
    event = await coded_event(stack)
    await made_code(event, code="TWICE", max_uses_per_fan=2)
    fan, other = Fan(stack, event), Fan(stack, event)
    await held_with(fan, "twice", quantity=1)
    await held_with(fan, "Twice", quantity=1)
    refused = await hold_with(fan, "TWICE", quantity=1)
    assert refused.status_code == 409 and error_code(refused) == "CODE_EXHAUSTED"
    await held_with(other, "twice", quantity=1)


async def test_generated_codes_are_single_use_and_listed_in_pages(stack: Stack) -> None:
    event = await coded_event(stack)
    made = await made_code(event, generate=5, prefix="PRESS", discount={"percent": 100})
    codes = [row["code"] for row in made["codes"]]
    assert len(set(codes)) == 5 and all(code.startswith("PRESS-") for code in codes)
    assert (made["max_uses"], made["uses"], made["discount"]) == (1, 0, {"percent": 100})
    fan = Fan(stack, event)
    hold = await held_with(fan, codes[0].lower(), quantity=2)
    assert hold["subtotal_cents"] == 0
    refused = await hold_with(Fan(stack, event), codes[0])
    assert refused.status_code == 409 and error_code(refused) == "CODE_EXHAUSTED"
    first_page = await venue_codes(event, limit=3)
    second_page = await venue_codes(event, limit=3, cursor=first_page["next_cursor"])
    assert second_page["next_cursor"] is None
    listed = first_page["codes"] + second_page["codes"]
    assert sorted(code["code"] for code in listed) == sorted(codes)
    assert {code["code"]: code["held"] for code in listed}[codes[0]] == 1


async def test_a_presale_code_lets_its_fans_hold_before_the_sale_opens(stack: Stack) -> None:
    event = await coded_event(stack, opens_in=datetime.timedelta(hours=1))
    await made_code(event, code="EARLY", kind="presale", valid_from=in_minutes(-5))
    await made_code(event, code="LATER", kind="presale", valid_from=in_minutes(30))
    fan = Fan(stack, event)
    closed = await hold_with(fan, None)
    assert closed.status_code == 409 and error_code(closed) == "SALE_NOT_OPEN"
    not_yet = await hold_with(fan, "later")
    assert not_yet.status_code == 409 and error_code(not_yet) == "CODE_INVALID"
    early = await held_with(fan, "early")
    assert early["items"][0]["unit_price_cents"] == GENERAL_PRICE_CENTS * 9 // 10
    async with event.venue() as client:
        paused = await client.patch(f"/v1/venue/events/{event.event_id}", json={"status": "paused"})
    assert paused.status_code == 200, paused.text
    refused = await hold_with(Fan(stack, event), "early")
    assert refused.status_code == 409 and error_code(refused) == "SALE_NOT_OPEN"


async def test_a_hidden_seated_type_is_left_out_of_the_seat_map_without_its_code(
    stack: Stack,
) -> None:
    body = event_body()
    body["ticket_types"][1]["hidden"] = True
    token = stack.token(roles=(Role.VENUE_MANAGER,))
    async with stack.client(token) as client:
        created = await client.post("/v1/venue/events", json=body)
    assert created.status_code == 201, created.text
    event = CreatedEvent(stack, token, created.json())
    await made_code(event, code="SEATS", kind="presale", unlocks=["RES"], valid_from=in_minutes(-5))
    fan = Fan(stack, event)
    async with fan.client() as client:
        plain = (await client.get(f"/v1/events/{event.event_id}/seatmap")).json()
        coded = (
            await client.get(f"/v1/events/{event.event_id}/seatmap", params={"code": "seats"})
        ).json()
        without = await client.post(
            f"/v1/events/{event.event_id}/holds", json={"seats": ["101-A-1"]}
        )
        unlocked = await client.post(
            f"/v1/events/{event.event_id}/holds", json={"seats": ["101-A-1"], "code": "seats"}
        )
    assert plain["sections"] == []
    assert [section["id"] for section in coded["sections"]] == ["101"]
    assert without.status_code == 422 and error_code(without) == "VALIDATION_ERROR"
    assert unlocked.status_code == 201, unlocked.text
    assert unlocked.json()["seats"] == ["101-A-1"]
