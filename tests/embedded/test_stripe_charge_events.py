"""The embedded Stripe sends what Stripe sends for money moved outside the service: a refund,
whole or partial, sends `charge.refunded` with the Charge as it stands (a refund without an
amount returns what is left, and none returns more); a payment with the test
card 4000000000000259 is disputed, and evidence or closing ends the dispute, each change sent as
`charge.dispute.*` — all through the real stripe SDK, the events received signed."""

import http.server
import pathlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from embedded.loopback import free_port
from embedded.stripe_part import EmbeddedStripe, StripeWebhook

SECRET = "whsec_test_charge_events"
API_KEY = "sk_test_charge_events"
DELIVERY_TIMEOUT_S = 15.0


class Receiver:
    """An HTTP endpoint on the loopback interface that keeps every verified event it is sent."""

    def __init__(self) -> None:
        self.events: queue.Queue[stripe.Event] = queue.Queue()
        self.seen: list[stripe.Event] = []
        events = self.events

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("Stripe-Signature", "")
                events.put(stripe.Webhook.construct_event(body.decode(), signature, SECRET))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *arguments: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def event(self, event_type: str, object_id: str, **fields: Any) -> dict[str, Any]:
        """The object of the first `event_type` about `object_id` whose object has `fields`."""
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while True:
            for event in self.seen:
                found: dict[str, Any] = event.data.object.to_dict()
                if (
                    event.type == event_type
                    and found["id"] == object_id
                    and all(found.get(name) == value for name, value in fields.items())
                ):
                    return found
            left_s = deadline - time.monotonic()
            try:
                self.seen.append(self.events.get(timeout=max(left_s, 0.001)))
            except queue.Empty:
                raise AssertionError(f"no {event_type} of {object_id} with {fields}") from None


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> Iterator[stripe.StripeClient]:
    directory: pathlib.Path = tmp_path_factory.mktemp("stripe")
    server = EmbeddedStripe(
        directory, free_port(), webhook=StripeWebhook(url=receiver.url, secret=SECRET)
    )
    api_base = server.start()
    try:
        yield stripe.StripeClient(
            API_KEY,
            base_addresses={"api": api_base},
            http_client=stripe.HTTPXClient(allow_sync_methods=True),
            max_network_retries=0,
        )
    finally:
        server.stop()


def paid_intent(
    client: stripe.StripeClient, payment_method: str, amount: int = 4_000
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": payment_method,
            "confirm": True,
            "metadata": {"order_id": "order-1"},
        }
    )


def charge_of(intent: stripe.PaymentIntent) -> str:
    """The id of the PaymentIntent's charge (localstripe gives the charge itself)."""
    charge = intent.latest_charge
    return charge if isinstance(charge, str) else str(charge["id"])


def test_each_refund_sends_charge_refunded_with_the_charge_as_it_stands(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    intent = paid_intent(client, "pm_card_visa")
    charge_id = charge_of(intent)

    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1_500})
    partly = receiver.event("charge.refunded", charge_id, amount_refunded=1_500)
    rest = client.v1.refunds.create(params={"charge": charge_id})
    whole = receiver.event("charge.refunded", charge_id, amount_refunded=4_000)

    assert partly["object"] == "charge"
    assert partly["payment_intent"] == intent.id
    assert partly["refunded"] is False
    assert [refund["id"] for refund in partly["refunds"]["data"]] == [first.id]
    assert whole["refunded"] is True
    assert {refund["id"] for refund in whole["refunds"]["data"]} == {first.id, rest.id}
    assert rest.amount == 2_500
    listed = client.v1.refunds.list(params={"charge": charge_id})
    assert [refund.id for refund in listed.data] == [rest.id, first.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": charge_id, "amount": 1})


def disputed_payment(
    client: stripe.StripeClient, receiver: Receiver
) -> tuple[stripe.PaymentIntent, dict[str, Any]]:
    intent = paid_intent(client, "pm_card_createDispute")
    assert intent.status == "succeeded"
    listed = client.v1.disputes.list()
    [dispute_id] = [dispute.id for dispute in listed.data if dispute.payment_intent == intent.id]
    created = receiver.event("charge.dispute.created", dispute_id)
    return intent, created


def test_a_payment_with_the_disputed_test_card_succeeds_then_is_disputed(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    intent, created = disputed_payment(client, receiver)

    assert created["object"] == "dispute"
    assert created["status"] == "needs_response"
    assert created["reason"] == "fraudulent"
    assert created["amount"] == intent.amount
    assert created["charge"] == charge_of(intent)
    assert created["payment_intent"] == intent.id
    assert [transaction["amount"] for transaction in created["balance_transactions"]] == [-4_000]
    read = client.v1.disputes.retrieve(created["id"])
    assert read.status == "needs_response"
    charge = client.v1.charges.retrieve(charge_of(intent))
    assert charge["disputed"] is True


@pytest.mark.parametrize(
    ("evidence", "ending"), [("winning_evidence", "won"), ("losing_evidence", "lost")]
)
def test_evidence_closes_a_dispute_as_its_text_says(
    client: stripe.StripeClient, receiver: Receiver, evidence: str, ending: str
) -> None:
    _, created = disputed_payment(client, receiver)

    updated = client.v1.disputes.update(
        created["id"], params={"evidence": {"uncategorized_text": evidence}}
    )
    closed = receiver.event("charge.dispute.closed", created["id"])

    assert updated.status == ending
    assert closed["status"] == ending
    assert closed["evidence"]["uncategorized_text"] == evidence
    reinstated = [transaction["amount"] for transaction in closed["balance_transactions"]]
    assert reinstated == ([-4_000, 4_000] if ending == "won" else [-4_000])
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(
            created["id"], params={"evidence": {"uncategorized_text": "winning_evidence"}}
        )


def test_closing_a_dispute_accepts_it_as_lost_and_other_evidence_puts_it_under_review(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    _, created = disputed_payment(client, receiver)

    reviewed = client.v1.disputes.update(
        created["id"], params={"evidence": {"uncategorized_text": "a receipt"}}
    )
    under_review = receiver.event("charge.dispute.updated", created["id"], status="under_review")
    closed_now = client.v1.disputes.close(created["id"])
    closed = receiver.event("charge.dispute.closed", created["id"])

    assert reviewed.status == "under_review"
    assert under_review["evidence_details"]["submission_count"] == 1
    assert closed_now.status == "lost"
    assert closed["status"] == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(created["id"])
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.retrieve("dp_none")
