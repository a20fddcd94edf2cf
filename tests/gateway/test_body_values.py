"""What a body may hold beyond its types (gateway/body_values.py), without a server: NUL found
exactly where JSON escapes it, the field at fault named as msgspec names it, and moments checked
against the range only where a Struct can hold them."""

import json

import hypothesis
import msgspec
import pytest
from hypothesis import strategies

from engine import limits
from gateway.body_values import escapes_nul, moment_fields, moment_out_of_range, nul_path
from gateway.event_schemas import CreateEventBody, PatchEventBody
from gateway.hold_schemas import HoldBody
from gateway.schemas import format_moment
from gateway.ticket_schemas import OfflineScansBody

NUL = "\x00"
# Texts made of what can confuse a search for the escape: backslashes, its letters and NUL.
CONFUSING_TEXTS = strategies.text(alphabet=["\\", "u", "0", NUL, '"', "a"], max_size=30)


def holds_nul(document: object) -> bool:
    """Whether a decoded document holds NUL in a text, a key included: the answer to check."""
    if isinstance(document, str):
        return NUL in document
    if isinstance(document, dict):
        return any(holds_nul(key) or holds_nul(value) for key, value in document.items())
    return isinstance(document, list) and any(holds_nul(item) for item in document)


@pytest.mark.parametrize(
    ("body", "holds"),
    [
        (rb'"\u0000"', True),
        (rb'"\\u0000"', False),
        (rb'"\\\u0000"', True),
        (rb'"\\\\u0000"', False),
        (rb'"\\u0000 and \u0000"', True),
        (rb'"\u00000"', True),
        (rb'"\u0001"', False),
        (rb'{"a\u0000": 1}', True),
        (b'"no escape at all"', False),
    ],
)
def test_nul_is_found_when_its_escape_is_not_itself_escaped(body: bytes, holds: bool) -> None:
    assert holds_nul(msgspec.json.decode(body)) is holds
    assert escapes_nul(body) is holds


@hypothesis.given(texts=strategies.lists(CONFUSING_TEXTS, max_size=4))
def test_nul_is_found_exactly_when_a_decoded_text_holds_it_whatever_the_backslashes(
    texts: list[str],
) -> None:
    body = msgspec.json.encode({text: texts for text in texts} | {"texts": texts})
    assert escapes_nul(body) is holds_nul(msgspec.json.decode(body))


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"name": "Night" + NUL}, "name"),
        ({"onsale": {"waiting_room": {"note": "a" + NUL}}}, "onsale.waiting_room.note"),
        ({"ticket_types": [{"name": "GA"}, {"name": NUL}]}, "ticket_types[1].name"),
        ({"seats": ["101-A-1", "101-A-" + NUL]}, "seats[1]"),
        ({"onsale": {"col" + NUL + "our": 1}}, "onsale.col" + NUL + "our"),
        ([NUL], "[0]"),
    ],
)
def test_field_is_named_as_msgspec_names_it_when_a_key_or_a_text_holds_nul(
    document: object, field: str
) -> None:
    assert nul_path(msgspec.json.encode(document)) == field


def test_no_field_is_named_when_the_body_is_no_json_or_too_deep() -> None:
    assert nul_path(b'{"name": "\\u0000",') is None
    assert nul_path(b"[" * 100_000 + b'"\\u0000"' + b"]" * 100_000) is None


def test_no_field_may_hold_a_moment_when_a_struct_has_no_date() -> None:
    assert moment_fields(HoldBody) == ()
    assert moment_fields(CreateEventBody) == (
        ("starts_at", "starts_at"),
        ("ends_at", "ends_at"),
        ("onsale", "onsale"),
        ("ticket_types", "ticket_types"),
    )


@pytest.mark.parametrize(
    ("moment", "in_range"),
    [
        (format_moment(limits.MOMENT_MS_MIN), True),
        ("1970-01-01T01:00:00+01:00", True),
        ("1969-12-31T23:59:59.999Z", False),
        ("1970-01-01T00:59:59.999+01:00", False),
        ("0001-01-01T00:00:00+14:00", False),
        (format_moment(limits.MOMENT_MS_MAX), True),
        ("9999-12-31T23:59:59.999999Z", True),
        ("9999-12-31T23:59:59-00:01", False),
        ("9999-12-31T23:59:59-14:00", False),
    ],
)
def test_moment_is_refused_by_its_field_when_out_of_range_once_in_utc(
    moment: str, in_range: bool
) -> None:
    patch = msgspec.json.decode(
        json.dumps({"onsale": {"opens_at": moment}}).encode(), type=PatchEventBody
    )
    assert moment_out_of_range(patch) == (None if in_range else "onsale.opens_at")


def test_moment_in_a_list_is_named_by_its_index_when_out_of_range() -> None:
    scans = [{"payload": "tq2", "scanned_at": "2026-01-01T00:00:00Z"}] * 2
    scans.append({"payload": "tq2", "scanned_at": "1960-01-01T00:00:00Z"})
    body = msgspec.json.decode(
        json.dumps({"device_id": "gate-1", "scans": scans}).encode(), type=OfflineScansBody
    )
    assert moment_out_of_range(body) == "scans[2].scanned_at"
