"""The expected "no"s of the use cases in services/, as exceptions each carrying what it was
refused for; gateway/errors.py words each for the API.

A new refusal is added to the `ServiceRefusal` union, so the gateway's translation of it stays
exhaustive.
"""

import typing

from engine.rejections import Rejected
from engine.transfers import TransferRefusal


class NothingFound(Exception):
    """What was asked for does not exist for the caller (or belongs to someone else)."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"no such {subject}")
        self.subject = subject


class CompsMisstated(Exception):
    """A comp request names both items and seats, or neither."""


class EngineRefused(Exception):
    """The event's InventoryActor said no to a step of the use case."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.message)
        self.rejected = rejected


class TransferRefused(Exception):
    """A rule of engine/transfers.py forbids giving the ticket now."""

    def __init__(self, refusal: TransferRefusal, *, ticket_status: str) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.ticket_status = ticket_status


class OrderNotRefundable(Exception):
    """The order was given, or never paid: nothing was taken, so nothing goes back."""

    def __init__(self, *, order_status: str, complimentary: bool) -> None:
        super().__init__(order_status)
        self.order_status = order_status
        self.complimentary = complimentary


class RefundMisstated(Exception):
    """A refund names tickets that are not the order's, or already refunded, or asks for money
    the order no longer has."""

    def __init__(self, message: str, *, ticket_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.ticket_ids = ticket_ids


class TicketMoveRefused(Exception):
    """The ticket state machine forbids the venue's move from the status the ticket is in."""

    def __init__(self, engine_message: str, *, ticket_status: str) -> None:
        super().__init__(engine_message)
        self.engine_message = engine_message
        self.ticket_status = ticket_status


class TicketNotReissuable(Exception):
    """Only a valid ticket is replaced by a new one."""

    def __init__(self, *, ticket_status: str) -> None:
        super().__init__(ticket_status)
        self.ticket_status = ticket_status


class ConfirmationNotResendable(Exception):
    """Only a paid order's confirmation is sent again, and only to an address it has:
    `lacks_email` when the order is paid but its buyer's token carried no email."""

    def __init__(self, *, order_status: str, lacks_email: bool) -> None:
        super().__init__(order_status)
        self.order_status = order_status
        self.lacks_email = lacks_email


class ClaimNotPending(Exception):
    """The claim was accepted, cancelled or expired: it can neither be taken nor cancelled."""

    def __init__(self, *, claim_status: str) -> None:
        super().__init__(claim_status)
        self.claim_status = claim_status


class RefundNotAllowed(Exception):
    """A fan asked for a refund the event does not allow now: it was not postponed, its window
    closed, or it was cancelled (and every paid order is refunded anyway)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ServiceRefusal = (
    NothingFound
    | CompsMisstated
    | EngineRefused
    | TransferRefused
    | OrderNotRefundable
    | RefundMisstated
    | RefundNotAllowed
    | TicketMoveRefused
    | TicketNotReissuable
    | ConfirmationNotResendable
    | ClaimNotPending
)
SERVICE_REFUSALS: tuple[type[ServiceRefusal], ...] = typing.get_args(ServiceRefusal)
