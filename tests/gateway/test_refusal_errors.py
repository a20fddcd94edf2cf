"""Every refusal of a use case (services/refusals.py) leaves the gateway in API.md's shape, with
the code, words and details the routes answered before the use cases left the HTTP layer."""

import typing

import pytest

from engine.rejections import Reason, Rejected
from engine.transfers import TransferRefusal
from gateway.errors import (
    TRANSFER_REFUSAL_MESSAGES,
    ApiError,
    ErrorCode,
    refusal_error,
    refusals_answered,
)
from services.refusals import (
    SERVICE_REFUSALS,
    ClaimNotPending,
    CompsMisstated,
    ConfirmationNotResendable,
    EngineRefused,
    NothingFound,
    OrderNotRefundable,
    RefundMisstated,
    RefundNotAllowed,
    ServiceRefusal,
    TicketMoveRefused,
    TicketNotReissuable,
    TransferRefused,
)

EXAMPLES: list[ServiceRefusal] = [
    NothingFound("ticket"),
    CompsMisstated(),
    EngineRefused(Rejected(reason=Reason.SOLD_OUT, message="sold out")),
    TransferRefused(TransferRefusal.COOLDOWN, ticket_status="valid"),
    OrderNotRefundable(order_status="paid", complimentary=True),
    OrderNotRefundable(order_status="expired", complimentary=False),
    RefundMisstated("some tickets are not this order's", ticket_ids=("ticket-9",)),
    RefundNotAllowed("the window to ask for a refund of this postponed event closed"),
    TicketMoveRefused("locked tickets do not lock", ticket_status="locked"),
    TicketNotReissuable(ticket_status="checked_in"),
    ClaimNotPending(claim_status="accepted"),
    ConfirmationNotResendable(order_status="pending_payment", lacks_email=False),
    ConfirmationNotResendable(order_status="paid", lacks_email=True),
]


def test_every_refusal_has_an_example() -> None:
    assert {type(example) for example in EXAMPLES} == set(typing.get_args(ServiceRefusal))
    assert set(SERVICE_REFUSALS) == set(typing.get_args(ServiceRefusal))


@pytest.mark.parametrize("refusal", EXAMPLES, ids=lambda refusal: type(refusal).__name__)
def test_every_refusal_is_an_api_error_when_raised_inside_refusals_answered(
    refusal: ServiceRefusal,
) -> None:
    with pytest.raises(ApiError) as raised, refusals_answered():
        raise refusal
    assert raised.value.code == refusal_error(refusal).code


def test_nothing_found_names_what_was_not_found_when_a_ticket_is_missing() -> None:
    error = refusal_error(NothingFound("ticket"))
    assert (error.code, error.message) == (ErrorCode.NOT_FOUND, "no such ticket")


def test_transfer_refusal_names_its_rule_and_the_status_when_a_rule_forbids_it() -> None:
    error = refusal_error(TransferRefused(TransferRefusal.LOCKED, ticket_status="locked"))
    assert error.code is ErrorCode.TRANSFER_NOT_ALLOWED
    assert error.message == TRANSFER_REFUSAL_MESSAGES[TransferRefusal.LOCKED]
    assert error.details == {"reason": "locked", "status": "locked"}


def test_order_not_refundable_says_why_when_the_order_was_given_or_never_paid() -> None:
    given = refusal_error(OrderNotRefundable(order_status="fulfilled", complimentary=True))
    assert given.details == {"status": "fulfilled", "complimentary": True}
    unpaid = refusal_error(OrderNotRefundable(order_status="expired", complimentary=False))
    assert unpaid.message == "a expired order was never paid, so there is nothing to refund"
    assert unpaid.details == {"status": "expired"}


def test_engine_refusal_keeps_the_engine_code_when_the_actor_says_no() -> None:
    error = refusal_error(EngineRefused(Rejected(reason=Reason.SEAT_UNAVAILABLE, message="taken")))
    assert (error.code, error.message) == (ErrorCode.SEAT_UNAVAILABLE, "taken")


def test_ticket_status_conflict_names_the_status_when_a_reissue_finds_no_valid_ticket() -> None:
    error = refusal_error(TicketNotReissuable(ticket_status="checked_in"))
    assert error.code is ErrorCode.TICKET_STATUS_CONFLICT
    assert error.message == "only a valid ticket is reissued; this one is checked_in"
    assert error.details == {"status": "checked_in"}


def test_a_refused_refund_request_says_why_when_no_window_is_open() -> None:
    error = refusal_error(RefundNotAllowed("the event was not postponed"))
    assert (error.code, error.message) == (
        ErrorCode.REFUND_NOT_ALLOWED,
        "the event was not postponed",
    )
    assert error.response().status_code == 409
