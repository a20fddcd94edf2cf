"""The embedded localstripe as `onsale up` runs it, through the real stripe SDK: lists and refunds
read from the store's index by object type, the same Idempotency-Key replays, the store survives a
restart, and a `kill -9` loses nothing the server acknowledged."""

import pathlib
import signal
import threading
import uuid

import pytest
import stripe

from embedded.child_processes import processes_running
from embedded.loopback import free_port
from embedded.stripe_part import EmbeddedStripe

API_KEY = "sk_test_onsale_stripe_server"


@pytest.fixture
def stripe_directory(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "stripe"


def client_of(api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": api_base},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
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


ACKNOWLEDGED_BEFORE_THE_KILL = 60
WRITERS = 8
KILL_TIMEOUT_S = 10.0


def kill_server(stripe_directory: pathlib.Path) -> None:
    [server] = processes_running("embedded.stripe_server", stripe_directory / "localstripe.pickle")
    server.send_signal(signal.SIGKILL)
    server.wait(KILL_TIMEOUT_S)


def write_until_killed(
    client: stripe.StripeClient, stripe_directory: pathlib.Path
) -> dict[str, tuple[int, str]]:
    """PaymentIntents paid, some refunded, by writers in parallel, until the server is killed
    among them: what the server acknowledged (amount, refunded charge or not)."""
    acknowledged: dict[str, tuple[int, str]] = {}
    lock = threading.Lock()

    def write(writer: int) -> None:
        amount = 1_000 + writer
        while True:
            try:
                intent = paid_intent(client, amount)
                with lock:
                    acknowledged[intent.id] = (amount, "paid")
                refund = client.v1.refunds.create(params={"payment_intent": intent.id})
                with lock:
                    acknowledged[intent.id] = (amount, refund.id)
            except stripe.StripeError:
                return

    writers = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for writer in writers:
        writer.start()
    while len(acknowledged) < ACKNOWLEDGED_BEFORE_THE_KILL:
        threading.Event().wait(0.01)
    kill_server(stripe_directory)
    for writer in writers:
        writer.join()
    return acknowledged


def found_again(client: stripe.StripeClient, intent_id: str) -> tuple[int, str]:
    intent = client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})
    refunds = client.v1.refunds.list(params={"charge": intent.latest_charge.id}).data
    return intent.amount, refunds[0].id if refunds else "paid"


def test_nothing_acknowledged_is_lost_when_the_server_is_killed(
    stripe_directory: pathlib.Path,
) -> None:
    first = EmbeddedStripe(stripe_directory, free_port())
    acknowledged = write_until_killed(client_of(first.start()), stripe_directory)
    assert first.has_died()
    first.stop()

    second = EmbeddedStripe(stripe_directory, free_port())
    client = client_of(second.start())
    try:
        found = {intent_id: found_again(client, intent_id) for intent_id in acknowledged}
    finally:
        second.stop()
    # A refund the server wrote but was killed before answering may be there too: never lost is
    # what was acknowledged.
    assert {intent_id: amount for intent_id, (amount, _) in found.items()} == {
        intent_id: amount for intent_id, (amount, _) in acknowledged.items()
    }
    refunded = {
        intent_id: refund for intent_id, (_, refund) in acknowledged.items() if refund != "paid"
    }
    assert {intent_id: found[intent_id][1] for intent_id in refunded} == refunded


def test_a_torn_last_record_is_cut_off_when_a_store_is_loaded_after_a_kill(
    stripe_directory: pathlib.Path,
) -> None:
    first = EmbeddedStripe(stripe_directory, free_port())
    client = client_of(first.start())
    kept = paid_intent(client, 1_500)
    first.stop()
    second = EmbeddedStripe(stripe_directory, free_port())
    client = client_of(second.start())
    later = paid_intent(client, 2_500)
    kill_server(stripe_directory)
    second.stop()
    with (stripe_directory / "localstripe.journal").open("ab") as journal:
        journal.write(b"\x40\x00\x00\x00 torn")

    third = EmbeddedStripe(stripe_directory, free_port())
    client = client_of(third.start())
    try:
        assert listed_intents(client) == {kept.id: (1_500, 0), later.id: (2_500, 0)}
        again = paid_intent(client, 3_500)
        assert client.v1.payment_intents.retrieve(again.id).amount == 3_500
    finally:
        third.stop()
