"""Chargebacks over real HTTP, from the disputes the session's embedded Stripe makes: a dispute
freezes the order's tickets, a won one unfreezes them and a lost one revokes them, the ledger
recording each and balancing; Stripe's events delivered twice, out of order or forged change
nothing more."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from engine.pricing import price_order
from tests.gateway.http_journeys import (
    CreatedEvent,
    Fan,
    create_event,
    error_code,
)
from tests.gateway.stack import Stack
from tests.gateway.stripe_events import (
    deliver,
    held,
    ledger_of,
    recorded_events,
    stripe_client,
    ticket_statuses,
)

DISPUTED_CARD = "4000000000000259"
GENERAL_PRICE_CENTS = 5_000
TICKETS = 2
TOTAL_CENTS = price_order(TICKETS * GENERAL_PRICE_CENTS).total_cents


@pytest.fixture
async def event(stack: Stack) -> CreatedEvent:
    return await create_event(stack, general_capacity=10, seat_rows=0)


@pytest.fixture
async def owner(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


class Disputed:
    """A fulfilled order whose payment Stripe has disputed, and the dispute's id."""

    def __init__(self, order: dict[str, Any], dispute_id: str) -> None:
        self.order_id: str = order["order_id"]
        self.dispute_id = dispute_id


async def disputed_order(stack: Stack, event: CreatedEvent) -> Disputed:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await held(fan, TICKETS))
    paid = await fan.pay(checkout["order_id"], card=DISPUTED_CARD)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "fulfilled"
    disputes = await stripe_client(stack).v1.disputes.list_async(params={"limit": 100})
    [dispute_id] = [
        dispute.id
        async for dispute in disputes.auto_paging_iter()
        if dispute.payment_intent == checkout["payment"]["payment_intent_id"]
    ]
    return Disputed(paid.json(), dispute_id)


def shifted(ledger: dict[str, int], **changes: int) -> dict[str, int]:
    """The ledger's nets once `changes` are added, accounts netting zero left out."""
    nets = {
        account: ledger.get(account, 0) + changes.get(account, 0) for account in {*ledger, *changes}
    }
    return {account: net for account, net in nets.items() if net}


async def only_event(stack: Stack, event_type: str, dispute_id: str) -> dict[str, Any]:
    [found] = await recorded_events(stack, event_type, dispute_id)
    return found


async def applied(stack: Stack, event: dict[str, Any]) -> bool:
    answer = await deliver(stack, event)
    assert answer.status_code == 200, answer.text
    assert answer.json()["received"] is True
    was_applied: bool = answer.json()["applied"]
    return was_applied


async def close_at_stripe(stack: Stack, disputed: Disputed, evidence: str) -> dict[str, Any]:
    await stripe_client(stack).v1.disputes.update_async(
        disputed.dispute_id, params={"evidence": {"uncategorized_text": evidence}}
    )
    return await only_event(stack, "charge.dispute.closed", disputed.dispute_id)


async def test_a_dispute_freezes_the_tickets_and_a_won_one_unfreezes_them_once(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    disputed = await disputed_order(stack, event)
    sale = await ledger_of(owner, disputed.order_id)
    created = await only_event(stack, "charge.dispute.created", disputed.dispute_id)

    assert await applied(stack, created)
    assert not await applied(stack, created)
    frozen = await ticket_statuses(owner, disputed.order_id)
    withdrawn = await ledger_of(owner, disputed.order_id)
    closed = await close_at_stripe(stack, disputed, "winning_evidence")
    assert await applied(stack, closed)
    assert not await applied(stack, closed)
    assert not await applied(stack, created)

    assert frozen == ["locked"] * TICKETS
    assert withdrawn == shifted(sale, processor_receivable=-TOTAL_CENTS, disputed_funds=TOTAL_CENTS)
    assert await ticket_statuses(owner, disputed.order_id) == ["valid"] * TICKETS
    assert await ledger_of(owner, disputed.order_id) == sale
    assert sum(withdrawn.values()) == 0
    moves = await owner.fetch(
        "SELECT action, actor, details->>'reason' AS reason FROM audit_log "
        "WHERE subject_id IN (SELECT id FROM tickets WHERE order_id = $1) ORDER BY occurred_at",
        uuid.UUID(disputed.order_id),
    )
    assert [(move["action"], move["actor"]) for move in moves] == [
        ("ticket.lock", "stripe")
    ] * TICKETS + [("ticket.unlock", "stripe")] * TICKETS
    assert {move["reason"] for move in moves[:TICKETS]} == {"chargeback"}
    dispute = await owner.fetchrow(
        "SELECT status, stripe_status, amount_cents FROM disputes WHERE provider_dispute_id = $1",
        disputed.dispute_id,
    )
    assert dict(dispute) == {"status": "won", "stripe_status": "won", "amount_cents": TOTAL_CENTS}


async def test_a_lost_dispute_heard_of_before_its_opening_revokes_the_tickets_once(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    disputed = await disputed_order(stack, event)
    sale = await ledger_of(owner, disputed.order_id)
    created = await only_event(stack, "charge.dispute.created", disputed.dispute_id)
    closed = await close_at_stripe(stack, disputed, "losing_evidence")

    assert await applied(stack, closed)
    assert not await applied(stack, created)
    assert not await applied(stack, closed)

    assert await ticket_statuses(owner, disputed.order_id) == ["revoked"] * TICKETS
    lost = await ledger_of(owner, disputed.order_id)
    assert lost == shifted(sale, processor_receivable=-TOTAL_CENTS, chargeback_losses=TOTAL_CENTS)
    assert sum(lost.values()) == 0
    fan_order = await owner.fetchval(
        "SELECT status FROM orders WHERE id = $1", uuid.UUID(disputed.order_id)
    )
    assert fan_order == "fulfilled"


async def test_a_dispute_accepted_at_stripe_after_its_opening_revokes_the_frozen_tickets(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    disputed = await disputed_order(stack, event)
    created = await only_event(stack, "charge.dispute.created", disputed.dispute_id)
    assert await applied(stack, created)

    await stripe_client(stack).v1.disputes.close_async(disputed.dispute_id)
    closed = await only_event(stack, "charge.dispute.closed", disputed.dispute_id)
    assert await applied(stack, closed)

    assert closed["data"]["object"]["status"] == "lost"
    assert await ticket_statuses(owner, disputed.order_id) == ["revoked"] * TICKETS
    ledger = await ledger_of(owner, disputed.order_id)
    assert ledger["chargeback_losses"] == TOTAL_CENTS
    assert "disputed_funds" not in ledger
    assert sum(ledger.values()) == 0


async def test_a_forged_or_foreign_dispute_event_changes_nothing(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    disputed = await disputed_order(stack, event)
    sale = await ledger_of(owner, disputed.order_id)
    created = await only_event(stack, "charge.dispute.created", disputed.dispute_id)
    foreign = {
        **created,
        "id": f"evt_{uuid.uuid4().hex}",
        "data": {"object": {**created["data"]["object"], "payment_intent": "pi_not_ours"}},
    }

    forged = await deliver(stack, created, secret="whsec_forged")
    ignored = await applied(stack, foreign)

    assert forged.status_code == 400
    assert error_code(forged) == "BAD_SIGNATURE"
    assert not ignored
    assert await ticket_statuses(owner, disputed.order_id) == ["valid"] * TICKETS
    assert await ledger_of(owner, disputed.order_id) == sale
    assert (
        await owner.fetchval(
            "SELECT count(*) FROM disputes WHERE provider_dispute_id = $1", disputed.dispute_id
        )
        == 0
    )
