"""Paging: how many items a page holds, and the cursor where the next page starts, opaque to
clients.

A listing cursor is the base64url of the last shown ticket's position (`issued_at` in microseconds
and its id), or the last shown order's (`created_at` and its id); a manifest cursor the last shown
ticket's id. A cursor that does not decode is a
VALIDATION_ERROR, never a first page: a client that mangled one must not loop forever.
"""

import base64
import binascii
import re
import uuid

from engine import limits
from gateway.canonical_ids import canonical_uuid
from gateway.exchange import invalid
from persistence.order_search import OrderPosition
from persistence.tickets import TicketPosition

SEPARATOR = "."
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# Positions travel to Postgres through a double, exact up to 2**53 microseconds (year 2255).
ISSUED_AT_US_MAX = 2**53


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("ascii")).rstrip(b"=").decode("ascii")


def _decode(cursor: str) -> str:
    if len(cursor) > limits.TICKET_CURSOR_CHARACTERS_MAX:
        raise invalid("the cursor is malformed", parameter="cursor")
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("the cursor is malformed", parameter="cursor") from None


def page_limit(text: str | None, *, default: int, maximum: int) -> int:
    """The `limit` query parameter: 1 to `maximum` in plain digits, `default` when absent."""
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(maximum))):
        raise invalid(f"limit is 1 to {maximum}", parameter="limit")
    limit = int(text)
    if not 1 <= limit <= maximum:
        raise invalid(f"limit is 1 to {maximum}", parameter="limit")
    return limit


def encode_position(position: TicketPosition) -> str:
    return _encode(f"{position.issued_at_us}{SEPARATOR}{position.ticket_id}")


def decode_position(cursor: str) -> TicketPosition:
    issued_at_text, _, ticket_text = _decode(cursor).partition(SEPARATOR)
    ticket_id = canonical_uuid(ticket_text)
    if not (issued_at_text.isdigit() and ticket_id is not None):
        raise invalid("the cursor is malformed", parameter="cursor")
    position = TicketPosition(issued_at_us=int(issued_at_text), ticket_id=ticket_id)
    if position.issued_at_us > ISSUED_AT_US_MAX:
        raise invalid("the cursor is malformed", parameter="cursor")
    return position


def encode_ticket_id(ticket_id: uuid.UUID) -> str:
    return _encode(str(ticket_id))


def decode_ticket_id(cursor: str) -> uuid.UUID:
    ticket_id = canonical_uuid(_decode(cursor))
    if ticket_id is None:
        raise invalid("the cursor is malformed", parameter="cursor")
    return ticket_id


def encode_text(text: str) -> str:
    """A cursor holding a text (a code's key), opaque to clients."""
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def decode_text(cursor: str) -> str:
    if len(cursor) > limits.CODE_CURSOR_CHARACTERS_MAX:
        raise invalid("the cursor is malformed", parameter="cursor")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("the cursor is malformed", parameter="cursor") from None
    if not (text and text.isprintable() and BASE64URL.fullmatch(cursor)):
        raise invalid("the cursor is malformed", parameter="cursor")
    return text


def encode_order_position(position: OrderPosition) -> str:
    return _encode(f"{position.created_at_us}{SEPARATOR}{position.order_id}")


def decode_order_position(cursor: str) -> OrderPosition:
    created_at_text, _, order_text = _decode(cursor).partition(SEPARATOR)
    order_id = canonical_uuid(order_text)
    if not (created_at_text.isascii() and created_at_text.isdigit() and order_id is not None):
        raise invalid("the cursor is malformed", parameter="cursor")
    position = OrderPosition(created_at_us=int(created_at_text), order_id=order_id)
    if position.created_at_us > ISSUED_AT_US_MAX:
        raise invalid("the cursor is malformed", parameter="cursor")
    return position
