"""Disputes as Stripe makes them in test mode, which localstripe lacks.

A PaymentIntent confirmed with the test card 4000000000000259 (`pm_card_createDispute`) succeeds,
then its charge is disputed as fraudulent: a Dispute `needs_response`, its amount withdrawn, and
`charge.dispute.created` sent. Evidence whose `uncategorized_text` is `winning_evidence` closes it
`won` (the amount reinstated), `losing_evidence` closes it `lost`; any other evidence puts it
`under_review`; closing it (`POST /v1/disputes/{id}/close`) accepts it as lost. Each change sends
`charge.dispute.updated` and each ending `charge.dispute.closed`, as Stripe does.
"""

from typing import Any

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.webhooks import schedule_webhook

DISPUTED_TEST_CARD = "4000000000000259"
DISPUTED_TEST_PAYMENT_METHOD = "pm_card_createDispute"
WINNING_EVIDENCE = "winning_evidence"
LOSING_EVIDENCE = "losing_evidence"
# Stripe's fee for a dispute, in minor units of USD, returned when the dispute is won.
DISPUTE_FEE_CENTS = 1_500
OPEN_STATUSES = frozenset({"needs_response", "under_review"})
ENDING_OF_EVIDENCE = {WINNING_EVIDENCE: "won", LOSING_EVIDENCE: "lost"}
EVIDENCE_DUE_S = 7 * 24 * 3_600


def balance_transaction(amount: int, fee: int, currency: str, description: str) -> dict[str, Any]:
    return {
        "id": "txn_" + resources.random_id(24),
        "object": "balance_transaction",
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "currency": currency,
        "description": description,
        "reporting_category": "dispute" if amount < 0 else "dispute_reversal",
        "type": "adjustment",
    }


class Dispute(resources.StripeObject):  # type: ignore[misc]
    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: "resources.Charge") -> None:
        super().__init__()
        self.amount = charge.amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = "fraudulent"
        self.status = "needs_response"
        self.is_charge_refundable = False
        self.metadata: dict[str, str] = {}
        self.evidence: dict[str, str] = {}
        self.evidence_details = {
            "due_by": self.created + EVIDENCE_DUE_S,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self.balance_transactions = [
            balance_transaction(
                -self.amount, DISPUTE_FEE_CENTS, self.currency, "Chargeback withdrawal"
            )
        ]
        charge.disputed = True
        schedule_webhook(resources.Event("charge.dispute.created", self))

    def _end(self, status: str) -> None:
        self.status = status
        if status == "won":
            self.balance_transactions.append(
                balance_transaction(
                    self.amount, -DISPUTE_FEE_CENTS, self.currency, "Chargeback reversal"
                )
            )
        schedule_webhook(resources.Event("charge.dispute.updated", self))
        schedule_webhook(resources.Event("charge.dispute.closed", self))

    def _refuse_when_closed(self) -> None:
        if self.status not in OPEN_STATUSES:
            raise UserError(400, f"This dispute is already closed ({self.status}).")

    @classmethod
    def _api_create(cls, **data: Any) -> "Dispute":
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_delete(cls, id: str) -> "Dispute":
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_update(
        cls,
        id: str,
        evidence: Any = None,
        metadata: Any = None,
        submit: Any = None,
        **unexpected: Any,
    ) -> "Dispute":
        if unexpected:
            raise UserError(400, "Unexpected " + ", ".join(unexpected))
        if evidence is not None and not isinstance(evidence, dict):
            raise UserError(400, "Bad request")
        if metadata is not None and not isinstance(metadata, dict):
            raise UserError(400, "Bad request")
        dispute = cls._api_retrieve(id)
        assert isinstance(dispute, Dispute)
        if metadata:
            dispute.metadata.update({str(key): str(value) for key, value in metadata.items()})
        if not evidence:
            return dispute
        dispute._refuse_when_closed()
        dispute.evidence.update({str(key): str(value) for key, value in evidence.items()})
        dispute.evidence_details["has_evidence"] = True
        ending = ENDING_OF_EVIDENCE.get(dispute.evidence.get("uncategorized_text", ""))
        if resources.try_convert_to_bool(submit) is False:
            return dispute
        dispute.evidence_details["submission_count"] += 1
        if ending is None:
            dispute.status = "under_review"
            schedule_webhook(resources.Event("charge.dispute.updated", dispute))
        else:
            dispute._end(ending)
        return dispute

    @classmethod
    def _api_close(cls, id: str, **unexpected: Any) -> "Dispute":
        if unexpected:
            raise UserError(400, "Unexpected " + ", ".join(unexpected))
        dispute = cls._api_retrieve(id)
        assert isinstance(dispute, Dispute)
        dispute._refuse_when_closed()
        dispute._end("lost")
        return dispute


def dispute_test_cards() -> None:
    """Make `pm_card_createDispute` a card, and dispute every charge it pays for."""
    canonical = resources.PaymentMethod._try_get_canonical_test_article.__func__

    def test_article(cls: type[resources.PaymentMethod], id: str, /) -> object:
        if id == DISPUTED_TEST_PAYMENT_METHOD:
            return resources.PaymentMethod(
                type="card",
                card={
                    "number": DISPUTED_TEST_CARD,
                    "exp_month": "12",
                    "exp_year": "2030",
                    "cvc": "123",
                },
            )
        return canonical(cls, id)

    resources.PaymentMethod._try_get_canonical_test_article = classmethod(test_article)
    succeeded = resources.PaymentIntent._on_success

    def on_success(intent: resources.PaymentIntent) -> None:
        succeeded(intent)
        payment_method = resources.PaymentMethod._api_retrieve(intent.latest_charge.payment_method)
        if getattr(payment_method, "_card_number", None) == DISPUTED_TEST_CARD:
            Dispute(intent.latest_charge)

    resources.PaymentIntent._on_success = on_success


def install_disputes(app: web.Application) -> None:
    """The Dispute API's routes on localstripe's app (before it starts) and the disputing card."""
    dispute_test_cards()
    url = "/v1/disputes"
    app.router.add_route("POST", url + "/{id}/close", server.api_extra(Dispute._api_close, url))
    app.router.add_route("GET", url + "/{id}", server.api_retrieve(Dispute, url))
    app.router.add_route("POST", url + "/{id}", server.api_update(Dispute, url))
    app.router.add_route("GET", url, server.api_list_all(Dispute, url))
