"""The embedded localstripe as `onsale up` runs it, through the real stripe SDK: lists and refunds
read from the store's index by object type, the same Idempotency-Key replays, and the store
survives a restart."""

import pathlib
import uuid

import pytest
import stripe

from gateway.embedded import EmbeddedStripe, free_port

API_KEY = "sk_test_onsale_stripe_server"


@pytest.fixture
def stripe_directory(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "stripe"


def client_of(api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": api_base},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
    )


def paid_intent(client: stripe.StripeClient, amount: int) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"order_id": str(uuid.uuid4())},
        }
    )


def listed_intents(client: stripe.StripeClient) -> dict[str, tuple[int, int]]:
    """Every PaymentIntent listed, page after page: its amount and what its charge refunded."""
    page = client.v1.payment_intents.list(params={"limit": 2, "expand": ["data.latest_charge"]})
    return {
        intent.id: (intent.amount, intent.latest_charge.amount_refunded)
        for intent in page.auto_paging_iter()
    }


def test_lists_refunds_and_replays_survive_a_restart(stripe_directory: pathlib.Path) -> None:
    first = EmbeddedStripe(stripe_directory, free_port())
    client = client_of(first.start())
    try:
        intents = [paid_intent(client, amount) for amount in (1_000, 2_000, 3_000)]
        refund_key = uuid.uuid4().hex
        refund = client.v1.refunds.create(
            params={"payment_intent": intents[1].id, "amount": 500},
            options={"idempotency_key": refund_key},
        )
        replayed = client.v1.refunds.create(
            params={"payment_intent": intents[1].id, "amount": 500},
            options={"idempotency_key": refund_key},
        )
        before = listed_intents(client)
    finally:
        first.stop()

    assert replayed.id == refund.id
    assert before == {
        intents[0].id: (1_000, 0),
        intents[1].id: (2_000, 500),
        intents[2].id: (3_000, 0),
    }
    second = EmbeddedStripe(stripe_directory, free_port())
    client = client_of(second.start())
    try:
        assert listed_intents(client) == before
        later = paid_intent(client, 4_000)
        assert listed_intents(client) == before | {later.id: (4_000, 0)}
    finally:
        second.stop()
