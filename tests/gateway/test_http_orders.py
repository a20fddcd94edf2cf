"""Checkout, payment, webhooks, the reconciler and refunds over real HTTP, against the session's
localstripe, Postgres and Ray: one order per hold, one PaymentIntent per order, one application
per Stripe event, tickets and ledger entries once, money never kept without a ticket."""

import asyncio
import contextlib
import email
import email.message
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import stripe

from actors.inventory_client import InventoryClient
from actors.names import local_chain_name
from actors.solana_chain import ActorChain
from actors.wall_clock import wall_clock_ms
from engine import limits
from engine.commands import Command
from engine.limits import MILLISECONDS_PER_SECOND
from engine.pricing import price_order
from gateway.auth import Role
from payments.stripe_api import StripePayments
from persistence.pool import create_pool
from services.payment_reconciler import PaymentReconciler
from services.settlement import Settlement
from tests.gateway.http_journeys import (
    MINT_POLL_INTERVAL_S,
    MINT_POLLS_MAX,
    VISA,
    CreatedEvent,
    Fan,
    create_event,
    error_code,
    minted_order,
)
from tests.gateway.stack import Stack
from tests.minting.chain_reads import read_nft

DECLINED = "4000000000000002"
GENERAL_PRICE_CENTS = 5_000


@pytest.fixture
async def event(stack: Stack) -> CreatedEvent:
    return await create_event(stack, general_capacity=20)


@pytest.fixture
async def owner(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


@pytest.fixture
async def settlement(stack: Stack) -> AsyncIterator[Settlement]:
    """A settlement of the test's own, as the reconciler in the cluster has one."""
    pool = await create_pool(stack.parts.database_service_url, min_size=1, max_size=2)
    clients: dict[uuid.UUID, InventoryClient] = {}

    async def inventory(event_id: uuid.UUID, command: Command) -> Any:
        client = clients.setdefault(
            event_id, InventoryClient(str(event_id), stack.parts.database_service_url)
        )
        return await client.execute(command)

    yield Settlement(
        pool=pool,
        stripe=StripePayments(
            api_key=stack.parts.stripe_api_key, api_base=stack.parts.stripe_api_base
        ),
        inventory=inventory,
        clock=wall_clock_ms,
    )
    await pool.close()


def stripe_client(stack: Stack) -> stripe.StripeClient:
    return stripe.StripeClient(
        stack.parts.stripe_api_key,
        base_addresses={"api": stack.parts.stripe_api_base},
        http_client=stripe.HTTPXClient(),
    )


async def pay_at_stripe(stack: Stack, payment_intent_id: str, card: str = VISA) -> dict[str, Any]:
    """Confirm the PaymentIntent at Stripe as the fan's browser would; our API hears nothing."""
    intents = stripe_client(stack).v1.payment_intents
    payment_method = {VISA: "pm_card_visa", DECLINED: "pm_card_visa_chargeDeclined"}[card]
    await intents.update_async(payment_intent_id, params={"payment_method": payment_method})
    with contextlib.suppress(stripe.CardError):
        await intents.confirm_async(payment_intent_id)
    intent = await intents.retrieve_async(payment_intent_id)
    fields: dict[str, Any] = intent.to_dict()
    return fields


def signed_event(
    stack: Stack, event_type: str, intent: dict[str, Any], *, at_s: int | None = None
) -> tuple[bytes, str]:
    created = at_s if at_s is not None else int(time.time())
    payload = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": event_type,
            "created": created,
            "data": {"object": intent},
        }
    ).encode()
    signature = hmac.new(
        stack.parts.stripe_webhook_secret.encode(), f"{created}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return payload, f"t={created},v1={signature}"


async def post_webhook(stack: Stack, payload: bytes, signature: str) -> Any:
    async with stack.client() as client:
        return await client.post(
            "/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )


async def available_general(owner: asyncpg.Connection, event: CreatedEvent) -> int:
    """What Postgres counts as on sale: the actor acknowledges only what it has committed."""
    available: int = await owner.fetchval(
        "SELECT capacity - held_quantity - sold_quantity FROM ticket_types WHERE id = $1",
        uuid.UUID(event.general),
    )
    return available


async def ledger_of(owner: asyncpg.Connection, order_id: str) -> dict[str, int]:
    rows = await owner.fetch(
        """
        SELECT account,
               sum(CASE direction WHEN 'debit' THEN amount_cents ELSE -amount_cents END) AS net
        FROM ledger_entries WHERE order_id = $1 GROUP BY account
        """,
        uuid.UUID(order_id),
    )
    return {row["account"]: row["net"] for row in rows}


async def test_a_paid_order_is_fulfilled_with_one_ticket_per_unit_and_a_balanced_ledger(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(3))
    price = price_order(3 * GENERAL_PRICE_CENTS)
    assert checkout["status"] == "pending_payment"
    assert checkout["subtotal_cents"] == price.subtotal_cents
    assert checkout["fees_cents"] == price.fees_cents
    assert checkout["total_cents"] == price.total_cents
    assert checkout["currency"] == "USD"
    assert checkout["payment"]["provider"] == "stripe"
    assert checkout["payment"]["payment_intent_id"].startswith("pi_")
    assert checkout["payment"]["client_secret"]

    paid = await fan.pay(checkout["order_id"])

    assert paid.status_code == 200, paid.text
    order = paid.json()
    assert order["status"] == "fulfilled"
    assert order["total_cents"] == price.total_cents
    assert order["paid_at"] is not None
    assert len(order["tickets"]) == 3
    assert len({ticket["ticket_id"] for ticket in order["tickets"]}) == 3
    for ticket in order["tickets"]:
        assert ticket["ticket_type_id"] == event.general
        assert ticket["seat"] is None
        assert ticket["status"] == "valid"
    ledger = await ledger_of(owner, checkout["order_id"])
    assert sum(ledger.values()) == 0
    assert ledger["venue_balance"] == -price.subtotal_cents
    assert ledger["processor_receivable"] == price.total_cents
    seeds_count = await owner.fetchval(
        "SELECT count(DISTINCT code_seed) FROM tickets WHERE order_id = $1",
        uuid.UUID(checkout["order_id"]),
    )
    assert seeds_count == 3
    intent = await stripe_client(stack).v1.payment_intents.retrieve_async(
        checkout["payment"]["payment_intent_id"]
    )
    assert intent.status == "succeeded"
    assert intent.amount == price.total_cents
    assert intent.metadata["order_id"] == checkout["order_id"]


async def test_seated_holds_issue_one_ticket_per_seat(stack: Stack, event: CreatedEvent) -> None:
    fan = Fan(stack, event)
    async with stack.client(fan.token) as client:
        held = await client.post(
            f"/v1/events/{event.event_id}/holds", json={"seats": ["101-A-1", "101-A-2"]}
        )
    assert held.status_code == 201, held.text
    checkout = await fan.checkout(held.json()["hold_id"])

    order = (await fan.pay(checkout["order_id"])).json()

    assert order["status"] == "fulfilled"
    assert sorted(ticket["seat"] for ticket in order["tickets"]) == ["101-A-1", "101-A-2"]
    assert {ticket["ticket_type_id"] for ticket in order["tickets"]} == {event.reserved}


async def test_checkout_is_one_order_per_hold_and_replays_its_first_answer(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    hold_id = await fan.hold()
    key = uuid.uuid4().hex
    async with stack.client(fan.token, **{"Idempotency-Key": key}) as client:
        first = await client.post(f"/v1/holds/{hold_id}/checkout")
        replay = await client.post(f"/v1/holds/{hold_id}/checkout")
    again_without_key = await fan.checkout(hold_id)

    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert again_without_key["order_id"] == first.json()["order_id"]
    assert again_without_key["payment"] == first.json()["payment"]
    orders = await owner.fetchval(
        "SELECT count(*) FROM orders WHERE hold_id = $1", uuid.UUID(hold_id)
    )
    assert orders == 1


async def test_checkout_refuses_other_fans_holds_and_ended_holds(
    stack: Stack, event: CreatedEvent
) -> None:
    fan, stranger = Fan(stack, event), Fan(stack, event)
    hold_id = await fan.hold()
    async with stack.client(stranger.token) as client:
        foreign = await client.post(f"/v1/holds/{hold_id}/checkout")
    async with stack.client(fan.token) as client:
        assert (await client.delete(f"/v1/holds/{hold_id}")).status_code == 204
        released = await client.post(f"/v1/holds/{hold_id}/checkout")
        unknown = await client.post(f"/v1/holds/{uuid.uuid4()}/checkout")

    assert foreign.status_code == 404 and error_code(foreign) == "NOT_FOUND"
    assert released.status_code == 410 and error_code(released) == "HOLD_EXPIRED"
    assert unknown.status_code == 404


async def test_a_declined_card_fails_the_order_and_releases_the_hold(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    before = await available_general(owner, event)
    checkout = await fan.checkout(await fan.hold(2))
    assert await available_general(owner, event) == before - 2

    declined = await fan.pay(checkout["order_id"], DECLINED)

    assert declined.status_code == 402 and error_code(declined) == "PAYMENT_FAILED"
    order = await fan.order(checkout["order_id"])
    assert order["status"] == "payment_failed"
    assert order["tickets"] == []
    assert await available_general(owner, event) == before
    intent = await stripe_client(stack).v1.payment_intents.retrieve_async(
        checkout["payment"]["payment_intent_id"]
    )
    assert intent.status == "canceled"


async def test_the_dev_pay_endpoint_checks_the_card_and_the_owner(
    stack: Stack, event: CreatedEvent
) -> None:
    fan, stranger = Fan(stack, event), Fan(stack, event)
    checkout = await fan.checkout(await fan.hold())

    unknown_card = await fan.pay(checkout["order_id"], "4111111111111111")
    not_a_card = await fan.pay(checkout["order_id"], "visa")
    foreign = await stranger.pay(checkout["order_id"])

    assert unknown_card.status_code == 422 and error_code(unknown_card) == "VALIDATION_ERROR"
    assert not_a_card.status_code == 422
    assert foreign.status_code == 404
    assert (await fan.order(checkout["order_id"]))["status"] == "pending_payment"


async def test_a_duplicated_webhook_is_applied_once(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(2))
    intent = await pay_at_stripe(stack, checkout["payment"]["payment_intent_id"])
    payload, signature = signed_event(stack, "payment_intent.succeeded", intent)

    first = await post_webhook(stack, payload, signature)
    second = await post_webhook(stack, payload, signature)

    assert first.status_code == 200 and first.json() == {"received": True, "applied": True}
    assert second.status_code == 200 and second.json() == {"received": True, "applied": False}
    order = await fan.order(checkout["order_id"])
    assert order["status"] == "fulfilled"
    assert len(order["tickets"]) == 2
    entries = await owner.fetchval(
        "SELECT count(DISTINCT transaction_id) FROM ledger_entries WHERE order_id = $1",
        uuid.UUID(checkout["order_id"]),
    )
    assert entries == 1


async def test_a_failed_payment_after_success_changes_nothing(
    stack: Stack, event: CreatedEvent
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(1))
    intent = await pay_at_stripe(stack, checkout["payment"]["payment_intent_id"])
    succeeded = signed_event(stack, "payment_intent.succeeded", intent)
    late_failure = signed_event(
        stack, "payment_intent.payment_failed", intent | {"status": "requires_payment_method"}
    )

    assert (await post_webhook(stack, *succeeded)).status_code == 200
    assert (await post_webhook(stack, *late_failure)).status_code == 200

    assert (await fan.order(checkout["order_id"]))["status"] == "fulfilled"


async def test_forged_and_stale_signatures_are_refused_and_change_nothing(
    stack: Stack, event: CreatedEvent
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(1))
    intent = await pay_at_stripe(stack, checkout["payment"]["payment_intent_id"])
    payload, signature = signed_event(stack, "payment_intent.succeeded", intent)
    forged = signature.replace("v1=", "v1=0")
    stale_payload, stale_signature = signed_event(
        stack, "payment_intent.succeeded", intent, at_s=int(time.time()) - 301
    )

    answers = [
        await post_webhook(stack, payload, forged),
        await post_webhook(stack, payload, "t=1,v1=abc"),
        await post_webhook(stack, stale_payload, stale_signature),
        await post_webhook(stack, payload + b" ", signature),
    ]

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert error_code(answer) == "BAD_SIGNATURE"
    assert (await fan.order(checkout["order_id"]))["status"] == "pending_payment"


async def test_the_reconciler_completes_a_payment_whose_webhook_was_lost(
    stack: Stack, event: CreatedEvent, settlement: Settlement
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(2))
    await pay_at_stripe(stack, checkout["payment"]["payment_intent_id"])
    assert (await fan.order(checkout["order_id"]))["status"] == "pending_payment"
    reconciler = PaymentReconciler(
        pool=settlement._pool, settlement=settlement, first_poll_after_ms=0
    )

    report = await reconciler.reconcile_round(wall_clock_ms())

    assert report.failed == 0
    order = await fan.order(checkout["order_id"])
    assert order["status"] == "fulfilled"
    assert len(order["tickets"]) == 2


async def test_the_reconciler_polls_a_lost_webhooks_payment_once_its_first_poll_is_due(
    stack: Stack, event: CreatedEvent, settlement: Settlement
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(1))
    await pay_at_stripe(stack, checkout["payment"]["payment_intent_id"])
    reconciler = PaymentReconciler(pool=settlement._pool, settlement=settlement)
    checked_out_ms = wall_clock_ms()

    await reconciler.reconcile_round(checked_out_ms)
    before_due = (await fan.order(checkout["order_id"]))["status"]
    await reconciler.reconcile_round(
        checked_out_ms + limits.PAYMENT_FIRST_POLL_AFTER_MS + MILLISECONDS_PER_SECOND
    )

    assert before_due == "pending_payment"
    assert (await fan.order(checkout["order_id"]))["status"] == "fulfilled"


async def test_the_reconciler_fails_an_order_whose_decline_webhook_was_lost(
    stack: Stack, event: CreatedEvent, settlement: Settlement, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    before = await available_general(owner, event)
    checkout = await fan.checkout(await fan.hold(2))
    await pay_at_stripe(stack, checkout["payment"]["payment_intent_id"], DECLINED)
    reconciler = PaymentReconciler(
        pool=settlement._pool, settlement=settlement, first_poll_after_ms=0
    )

    await reconciler.reconcile_round(wall_clock_ms())

    assert (await fan.order(checkout["order_id"]))["status"] == "payment_failed"
    assert await available_general(owner, event) == before


async def delete_at_stripe(stack: Stack, payment_intent_id: str) -> None:
    """What an operator cleaning test data does: the PaymentIntent is gone from Stripe."""
    async with httpx.AsyncClient(
        base_url=str(stack.parts.stripe_api_base),
        headers={"Authorization": f"Bearer {stack.parts.stripe_api_key}"},
    ) as client:
        answer = await client.delete(f"/v1/payment_intents/{payment_intent_id}")
    assert answer.status_code == 200, answer.text


# The session's own Supervisor reconciles every tenant every couple of seconds: when it ends the
# order first, this process sees nothing to count, and the sale is tried again with a new order.
VANISHED_INTENT_ATTEMPTS = 3


@pytest.mark.parametrize(
    ("window_ended", "ended_status"), [(False, "payment_failed"), (True, "expired")]
)
async def test_the_reconciler_ends_an_unpaid_order_once_when_its_payment_intent_vanished(
    stack: Stack,
    event: CreatedEvent,
    settlement: Settlement,
    owner: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
    window_ended: bool,
    ended_status: str,
) -> None:
    reconciler = PaymentReconciler(
        pool=settlement._pool, settlement=settlement, first_poll_after_ms=0
    )
    for _ in range(VANISHED_INTENT_ATTEMPTS):
        caplog.clear()
        fan = Fan(stack, event)
        before = await available_general(owner, event)
        checkout = await fan.checkout(await fan.hold(2))
        await delete_at_stripe(stack, checkout["payment"]["payment_intent_id"])
        if window_ended:
            await owner.execute(
                "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1",
                uuid.UUID(checkout["order_id"]),
            )

        with caplog.at_level(logging.ERROR, logger="payments"):
            rounds = [await reconciler.reconcile_round(wall_clock_ms()) for _ in range(3)]

        ended = [r for r in caplog.records if "no longer exists at Stripe" in r.message]
        if ended:
            break
    assert [report.failed for report in rounds] == [0, 0, 0]
    assert (await fan.order(checkout["order_id"]))["status"] == ended_status
    assert await available_general(owner, event) == before
    assert [getattr(record, "order_id", None) for record in ended] == [checkout["order_id"]]


async def test_an_order_past_its_window_expires_and_its_payment_intent_is_cancelled(
    stack: Stack, event: CreatedEvent, settlement: Settlement, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(1))
    await owner.execute(
        "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(checkout["order_id"]),
    )
    reconciler = PaymentReconciler(pool=settlement._pool, settlement=settlement)

    await reconciler.reconcile_round(wall_clock_ms())

    assert (await fan.order(checkout["order_id"]))["status"] == "expired"
    intent = await stripe_client(stack).v1.payment_intents.retrieve_async(
        checkout["payment"]["payment_intent_id"]
    )
    assert intent.status == "canceled"
    late = await fan.pay(checkout["order_id"])
    assert late.status_code == 410 and error_code(late) == "HOLD_EXPIRED"


async def test_a_payment_that_arrives_after_the_hold_ended_is_refunded(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    hold_id = await fan.hold(2)
    checkout = await fan.checkout(hold_id)
    intent = await pay_at_stripe(stack, checkout["payment"]["payment_intent_id"])
    async with stack.client(fan.token) as client:
        assert (await client.delete(f"/v1/holds/{hold_id}")).status_code == 204

    applied = await post_webhook(stack, *signed_event(stack, "payment_intent.succeeded", intent))

    assert applied.status_code == 200
    order = await fan.order(checkout["order_id"])
    assert order["status"] == "refunded"
    assert order["tickets"] == []
    refund = await owner.fetchrow(
        "SELECT kind, status, amount_cents, provider_refund_id FROM refunds WHERE order_id = $1",
        uuid.UUID(checkout["order_id"]),
    )
    assert refund["kind"] == "late_payment" and refund["status"] == "succeeded"
    assert refund["amount_cents"] == checkout["total_cents"]
    stripe_refund = await stripe_client(stack).v1.refunds.retrieve_async(
        refund["provider_refund_id"]
    )
    assert stripe_refund.amount == checkout["total_cents"]
    assert stripe_refund.payment_intent == checkout["payment"]["payment_intent_id"]
    assert await ledger_of(owner, checkout["order_id"]) == {}


async def test_a_venue_refund_returns_money_tickets_and_inventory_once(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    before = await available_general(owner, event)
    checkout = await fan.checkout(await fan.hold(2))
    assert (await fan.pay(checkout["order_id"])).json()["status"] == "fulfilled"
    assert await available_general(owner, event) == before - 2
    path = f"/v1/orders/{checkout['order_id']}/refund"

    async with event.venue() as venue:
        refunded = await venue.post(path, json={"reason": "the fan cannot come"})
        again = await venue.post(path, json={"reason": "the fan cannot come"})

    assert refunded.status_code == 200, refunded.text
    order = refunded.json()
    assert order["status"] == "refunded"
    assert {ticket["status"] for ticket in order["tickets"]} == {"refunded"}
    assert again.status_code == 200 and again.json()["status"] == "refunded"
    assert await available_general(owner, event) == before
    ledger = await ledger_of(owner, checkout["order_id"])
    assert set(ledger.values()) == {0}
    refunds = await owner.fetch(
        "SELECT provider_refund_id FROM refunds WHERE order_id = $1",
        uuid.UUID(checkout["order_id"]),
    )
    assert len(refunds) == 1
    stripe_refunds = await stripe_client(stack).v1.refunds.list_async(
        params={"payment_intent": checkout["payment"]["payment_intent_id"]}
    )
    assert [refund.id for refund in stripe_refunds.data] == [refunds[0]["provider_refund_id"]]


async def test_refunds_are_for_the_events_venue_and_for_paid_orders_only(
    stack: Stack, event: CreatedEvent
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(1))
    path = f"/v1/orders/{checkout['order_id']}/refund"
    other_venue = stack.token(roles=(Role.VENUE_MANAGER,))

    async with stack.client(fan.token) as client:
        by_fan = await client.post(path, json={"reason": "mine"})
    async with stack.client(other_venue) as client:
        by_other_venue = await client.post(path, json={"reason": "theirs"})
    async with event.venue() as venue:
        unpaid = await venue.post(path, json={"reason": "too early"})
        no_reason = await venue.post(path, json={})

    assert by_fan.status_code == 403 and error_code(by_fan) == "FORBIDDEN"
    assert by_other_venue.status_code == 404
    assert unpaid.status_code == 409 and error_code(unpaid) == "ORDER_NOT_REFUNDABLE"
    assert no_reason.status_code == 422


async def test_an_order_is_seen_by_its_fan_and_its_venue_only(
    stack: Stack, event: CreatedEvent
) -> None:
    fan, stranger = Fan(stack, event), Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(1))
    path = f"/v1/orders/{checkout['order_id']}"

    async with event.venue() as venue:
        by_venue = await venue.get(path)
    async with stack.client(stranger.token) as client:
        by_stranger = await client.get(path)
    async with stack.client(stack.token(roles=(Role.ADMIN,))) as client:
        by_other_tenant = await client.get(path)

    assert by_venue.status_code == 200 and by_venue.json()["order_id"] == checkout["order_id"]
    assert by_stranger.status_code == 404
    assert by_other_tenant.status_code == 404


async def test_door_staff_read_their_venues_orders_and_cannot_refund_them(
    stack: Stack, owner: asyncpg.Connection
) -> None:
    tenant_id = uuid.uuid4()
    event = await create_event(
        stack, stack.token(tenant_id=tenant_id, roles=(Role.VENUE_MANAGER,)), general_capacity=5
    )
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(1))
    assert (await fan.pay(checkout["order_id"])).json()["status"] == "fulfilled"
    path = f"/v1/orders/{checkout['order_id']}"

    async with stack.client(stack.token(tenant_id=tenant_id, roles=(Role.VENUE_STAFF,))) as staff:
        read = await staff.get(path)
        refund = await staff.post(f"{path}/refund", json={"reason": "asked at the door"})
    async with stack.client(stack.token(roles=(Role.VENUE_STAFF,))) as other_staff:
        other_tenant = await other_staff.get(path)

    assert read.status_code == 200, read.text
    assert read.json()["order_id"] == checkout["order_id"]
    assert [ticket["status"] for ticket in read.json()["tickets"]] == ["valid"]
    assert refund.status_code == 403 and error_code(refund) == "FORBIDDEN"
    assert other_tenant.status_code == 404 and error_code(other_tenant) == "NOT_FOUND"
    status = await owner.fetchval(
        "SELECT status FROM orders WHERE id = $1", uuid.UUID(checkout["order_id"])
    )
    assert status == "fulfilled"


def confirmation_emails(stack: Stack, recipient: str) -> list[email.message.Message]:
    messages = []
    for path in sorted(stack.outside.mail_directory.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == recipient:
            messages.append(message)
    return messages


async def test_every_ticket_of_a_paid_order_is_minted_on_chain_and_the_fan_is_emailed(
    stack: Stack, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    checkout = await fan.checkout(await fan.hold(2))
    assert (await fan.pay(checkout["order_id"])).json()["status"] == "fulfilled"

    order = await minted_order(fan, checkout["order_id"])

    chain = ActorChain(local_chain_name(str(stack.outside.solana_directory)))
    for ticket in order["tickets"]:
        assert ticket["mint"]["status"] == "minted", ticket
        assert ticket["status"] == "valid"
        owner_address = await owner.fetchval(
            "SELECT owner_address FROM nft_mints WHERE ticket_id = $1",
            uuid.UUID(ticket["ticket_id"]),
        )
        nft = await read_nft(chain, ticket["mint"]["mint_address"], owner_address)
        assert (nft.mint.supply, nft.mint.decimals, nft.mint.mint_authority) == (1, 0, None)
        assert (nft.holder.owner, nft.holder.amount) == (owner_address, 1)
        assert nft.mint.metadata is not None
    for _ in range(MINT_POLLS_MAX):
        if confirmation_emails(stack, fan.email):
            break
        await asyncio.sleep(MINT_POLL_INTERVAL_S)
    [confirmation] = confirmation_emails(stack, fan.email)
    body = confirmation.get_payload(decode=True).decode()
    for ticket in order["tickets"]:
        assert ticket["ticket_id"] in body
