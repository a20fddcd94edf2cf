"""Refunds made at Stripe, outside the service (its dashboard, here the stripe SDK against the
session's embedded Stripe), over real HTTP: the `charge.refunded` Stripe sends refunds the order
as a venue refund does when it covers everything left, or gives money alone back when it does
not; delivered twice, out of order or forged, it changes nothing more."""

import asyncio
import email
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from engine.pricing import price_order
from tests.gateway.http_journeys import CreatedEvent, Fan, create_event, error_code
from tests.gateway.stack import Stack
from tests.gateway.stripe_events import (
    deliver,
    held,
    ledger_of,
    recorded_events,
    stripe_client,
    ticket_statuses,
)

GENERAL_PRICE_CENTS = 5_000
TICKETS = 2
TOTAL_CENTS = price_order(TICKETS * GENERAL_PRICE_CENTS).total_cents
PARTIAL_CENTS = 1_000
MAIL_POLLS_MAX = 600
MAIL_POLL_INTERVAL_S = 0.1


@pytest.fixture
async def event(stack: Stack) -> CreatedEvent:
    return await create_event(stack, general_capacity=10, seat_rows=0)


@pytest.fixture
async def owner(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


class Bought:
    def __init__(self, fan: Fan, order: dict[str, Any]) -> None:
        self.fan = fan
        self.order_id: str = order["order_id"]
        self.payment_intent_id: str = order["payment"]["payment_intent_id"]


async def bought(stack: Stack, event: CreatedEvent) -> Bought:
    """A fulfilled order of two general tickets."""
    fan = Fan(stack, event)
    checkout = await fan.checkout(await held(fan, TICKETS))
    paid = await fan.pay(checkout["order_id"])
    assert paid.status_code == 200 and paid.json()["status"] == "fulfilled", paid.text
    return Bought(fan, checkout)


async def refund_at_stripe(stack: Stack, order: Bought, amount_cents: int | None = None) -> str:
    """Refund at Stripe, as the dashboard does; the id of the charge refunded."""
    params: dict[str, Any] = {"payment_intent": order.payment_intent_id}
    if amount_cents is not None:
        params["amount"] = amount_cents
    refund = await stripe_client(stack).v1.refunds.create_async(params=params)
    return str(refund.charge)


async def charge_refunded(stack: Stack, charge_id: str, amount_refunded: int) -> dict[str, Any]:
    [found] = [
        event
        for event in await recorded_events(stack, "charge.refunded", charge_id)
        if event["data"]["object"]["amount_refunded"] == amount_refunded
    ]
    return found


async def applied(stack: Stack, event: dict[str, Any]) -> bool:
    answer = await deliver(stack, event)
    assert answer.status_code == 200, answer.text
    was_applied: bool = answer.json()["applied"]
    return was_applied


async def sold_general(owner: asyncpg.Connection, event: CreatedEvent) -> int:
    """What the inventory counts as sold (a hold whose answer a 503 lost may still be held)."""
    sold: int = await owner.fetchval(
        "SELECT sold_quantity FROM ticket_types WHERE id = $1", uuid.UUID(event.general)
    )
    return sold


async def refund_notices(owner: asyncpg.Connection, order_id: str) -> int:
    count: int = await owner.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'notice.refunded' AND aggregate_id = $1",
        order_id,
    )
    return count


async def refund_emails(stack: Stack, recipient: str) -> list[email.message.Message]:
    """The refund emails sent to `recipient`, once at least one has arrived."""
    for _ in range(MAIL_POLLS_MAX):
        found = [
            message
            for path in sorted(stack.outside.mail_directory.glob("*.eml"))
            if (message := email.message_from_bytes(path.read_bytes()))["To"] == recipient
            and str(message["Subject"]).startswith("Your refund")
        ]
        if found:
            return found
        await asyncio.sleep(MAIL_POLL_INTERVAL_S)
    raise AssertionError(f"no refund email reached {recipient}")


async def test_a_whole_refund_made_at_stripe_refunds_the_order_once(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    before = await sold_general(owner, event)
    order = await bought(stack, event)
    charge_id = await refund_at_stripe(stack, order)
    refunded = await charge_refunded(stack, charge_id, TOTAL_CENTS)

    assert await applied(stack, refunded)
    assert not await applied(stack, refunded)
    assert not await applied(stack, {**refunded, "id": f"evt_{uuid.uuid4().hex}"})

    assert (await order.fan.order(order.order_id))["status"] == "refunded"
    assert await ticket_statuses(owner, order.order_id) == ["refunded"] * TICKETS
    assert await sold_general(owner, event) == before
    assert set((await ledger_of(owner, order.order_id)).values()) == set()
    assert await refund_notices(owner, order.order_id) == 1
    [mail] = await refund_emails(stack, order.fan.email)
    assert order.order_id in mail.get_payload(decode=True).decode()
    kinds = await owner.fetch(
        "SELECT kind, amount_cents, provider_refund_id FROM refunds WHERE order_id = $1",
        uuid.UUID(order.order_id),
    )
    assert [(row["kind"], row["amount_cents"]) for row in kinds] == [
        ("stripe_dashboard", TOTAL_CENTS)
    ]


async def test_a_partial_refund_made_at_stripe_gives_money_alone_back(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    before = await sold_general(owner, event)
    order = await bought(stack, event)
    charge_id = await refund_at_stripe(stack, order, PARTIAL_CENTS)
    refunded = await charge_refunded(stack, charge_id, PARTIAL_CENTS)

    assert await applied(stack, refunded)
    assert not await applied(stack, refunded)

    assert (await order.fan.order(order.order_id))["status"] == "partially_refunded"
    assert await ticket_statuses(owner, order.order_id) == ["valid"] * TICKETS
    assert await sold_general(owner, event) == before + TICKETS
    ledger = await ledger_of(owner, order.order_id)
    assert sum(ledger.values()) == 0
    assert ledger["processor_receivable"] == TOTAL_CENTS - PARTIAL_CENTS
    assert await refund_notices(owner, order.order_id) == 1


async def test_refunds_at_stripe_heard_of_out_of_order_apply_each_once(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    before = await sold_general(owner, event)
    order = await bought(stack, event)
    charge_id = await refund_at_stripe(stack, order, PARTIAL_CENTS)
    await refund_at_stripe(stack, order)
    partly = await charge_refunded(stack, charge_id, PARTIAL_CENTS)
    wholly = await charge_refunded(stack, charge_id, TOTAL_CENTS)

    assert await applied(stack, wholly)
    assert not await applied(stack, partly)
    assert not await applied(stack, wholly)

    assert (await order.fan.order(order.order_id))["status"] == "refunded"
    assert await ticket_statuses(owner, order.order_id) == ["refunded"] * TICKETS
    assert await sold_general(owner, event) == before
    assert set((await ledger_of(owner, order.order_id)).values()) == set()
    amounts = await owner.fetch(
        "SELECT amount_cents FROM refunds WHERE order_id = $1 ORDER BY created_at",
        uuid.UUID(order.order_id),
    )
    assert [row["amount_cents"] for row in amounts] == [PARTIAL_CENTS, TOTAL_CENTS - PARTIAL_CENTS]


async def test_money_past_the_face_value_then_the_rest_refunds_the_order_whole(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    past_face_cents = TICKETS * GENERAL_PRICE_CENTS + 100
    order = await bought(stack, event)
    charge_id = await refund_at_stripe(stack, order, past_face_cents)
    assert await applied(stack, await charge_refunded(stack, charge_id, past_face_cents))
    assert (await order.fan.order(order.order_id))["status"] == "partially_refunded"
    assert sum((await ledger_of(owner, order.order_id)).values()) == 0

    await refund_at_stripe(stack, order)
    assert await applied(stack, await charge_refunded(stack, charge_id, TOTAL_CENTS))

    assert (await order.fan.order(order.order_id))["status"] == "refunded"
    assert await ticket_statuses(owner, order.order_id) == ["refunded"] * TICKETS
    assert set((await ledger_of(owner, order.order_id)).values()) == set()


async def test_a_kept_event_nobody_asked_for_is_applied_by_the_payment_workers(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    """As when the worker the webhook route asked never answered: the event is in the inbox, and
    the payment reconciler's rounds, on the payment workers, apply it."""
    order = await bought(stack, event)
    charge_id = await refund_at_stripe(stack, order)
    refunded = await charge_refunded(stack, charge_id, TOTAL_CENTS)
    await owner.execute(
        "INSERT INTO stripe_events (event_id, event_type, payload) VALUES ($1, $2, $3::jsonb)",
        refunded["id"],
        refunded["type"],
        json.dumps(refunded),
    )

    for _ in range(MAIL_POLLS_MAX):
        if (await order.fan.order(order.order_id))["status"] == "refunded":
            break
        await asyncio.sleep(MAIL_POLL_INTERVAL_S)
    assert (await order.fan.order(order.order_id))["status"] == "refunded"
    kept = await owner.fetchrow(
        "SELECT applied_at, attempts FROM stripe_events WHERE event_id = $1", refunded["id"]
    )
    assert kept["applied_at"] is not None and kept["attempts"] == 1
    assert not await applied(stack, refunded), "Stripe sending it again changes nothing"
    assert await ticket_statuses(owner, order.order_id) == ["refunded"] * TICKETS
    assert await refund_notices(owner, order.order_id) == 1


async def test_a_forged_or_foreign_charge_refunded_changes_nothing(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    order = await bought(stack, event)
    charge_id = await refund_at_stripe(stack, order)
    refunded = await charge_refunded(stack, charge_id, TOTAL_CENTS)
    foreign = {
        **refunded,
        "id": f"evt_{uuid.uuid4().hex}",
        "data": {"object": {**refunded["data"]["object"], "payment_intent": "pi_not_ours"}},
    }

    forged = await deliver(stack, refunded, secret="whsec_forged")
    ignored = await applied(stack, foreign)

    assert forged.status_code == 400
    assert error_code(forged) == "BAD_SIGNATURE"
    assert not ignored
    assert (await order.fan.order(order.order_id))["status"] == "fulfilled"
    assert await ticket_statuses(owner, order.order_id) == ["valid"] * TICKETS
    assert await refund_notices(owner, order.order_id) == 0
