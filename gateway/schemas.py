"""The pieces every body of API.md is made of: the request and response bases, how a moment is
written, and the texts and ids more than one subject shares. Each subject's Structs are in their
own module (gateway/event_schemas.py, gateway/hold_schemas.py, ...).

Requests forbid unknown fields, so a typo is a VALIDATION_ERROR, never silently ignored. The
OpenAPI document is generated from the Structs (gateway/openapi.py), so a field changed here is
changed in the contract too: change API.md's shapes only by adding.
"""

import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine import limits

Key = Annotated[str, Meta(min_length=1, max_length=50)]
Label = Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")]


UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def format_moment(moment_ms: int) -> str:
    """RFC 3339 in UTC with milliseconds, as every time in the API is written; in integers, as a
    float of seconds loses the last millisecond in the far future."""
    moment = UNIX_EPOCH + datetime.timedelta(milliseconds=moment_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


MOMENT_RANGE = f"{format_moment(limits.MOMENT_MS_MIN)} to {format_moment(limits.MOMENT_MS_MAX)}"
# Checked after decoding (gateway.exchange.decode_body), as no schema keyword bounds a date-time.
Moment = Annotated[
    datetime.datetime,
    Meta(
        tz=True,
        description=f"RFC 3339 with an offset; once converted to UTC, from {MOMENT_RANGE}.",
    ),
]
Identifier = Annotated[str, Meta(min_length=1, max_length=64)]
SeatLabel = Annotated[str, Meta(min_length=1, max_length=64)]
CodeText = Annotated[
    str, Meta(min_length=1, max_length=64, description="A code of the event, in any case.")
]
ZoneId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=limits.ZONE_ID_CHARACTERS_MAX,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        description="A zone of the venue, as the event's entry policy names it.",
    ),
]

EventStatus = Literal["scheduled", "on_sale", "paused", "sold_out", "closed", "cancelled"]


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A request body: unknown fields are refused."""


class Response(msgspec.Struct, frozen=True, kw_only=True):
    """A response body."""
