"""The rotating QR code: signed with the ticket's own secret over the ticket and the time step,
read strictly, verified in constant time with one step of clock skew either side."""

import pytest

from engine import limits
from engine.ticket_qr import (
    MILLISECONDS_PER_STEP,
    QrVerdict,
    qr_step,
    read_qr,
    sign_qr,
    step_ends_at_ms,
    verify_qr,
)

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
TICKET_ID = "0000002a-0000-8000-8000-000000000001"
NOW_MS = 1_700_000_000_000


def payload_at(now_ms: int, secret: bytes = SECRET, ticket_id: str = TICKET_ID) -> str:
    return sign_qr(secret=secret, ticket_id=ticket_id, step=qr_step(now_ms))


def verdict(payload: str, now_ms: int = NOW_MS, secret: bytes = SECRET) -> QrVerdict:
    claims = read_qr(payload)
    assert claims is not None
    return verify_qr(secret=secret, payload=claims, now_ms=now_ms)


def test_code_is_genuine_when_scanned_in_its_own_step() -> None:
    payload = payload_at(NOW_MS)

    assert payload.startswith(f"tq1.{TICKET_ID}.")
    assert verdict(payload) is QrVerdict.GENUINE
    claims = read_qr(payload)
    assert claims is not None and claims.ticket_id == TICKET_ID


@pytest.mark.parametrize(
    "steps_away", range(-limits.QR_CLOCK_SKEW_STEPS, limits.QR_CLOCK_SKEW_STEPS + 1)
)
def test_code_is_genuine_when_the_clocks_differ_by_at_most_the_skew(steps_away: int) -> None:
    payload = payload_at(NOW_MS + steps_away * MILLISECONDS_PER_STEP)

    assert verdict(payload) is QrVerdict.GENUINE


@pytest.mark.parametrize(
    "steps_away", [-3, -(limits.QR_CLOCK_SKEW_STEPS + 1), limits.QR_CLOCK_SKEW_STEPS + 1]
)
def test_code_is_expired_when_its_step_is_beyond_the_skew(steps_away: int) -> None:
    payload = payload_at(NOW_MS + steps_away * MILLISECONDS_PER_STEP)

    assert verdict(payload) is QrVerdict.EXPIRED


def test_code_rotates_at_least_every_thirty_seconds() -> None:
    assert limits.QR_STEP_MS <= 30_000
    step = qr_step(NOW_MS)
    assert step_ends_at_ms(step) - NOW_MS <= limits.QR_STEP_MS
    assert payload_at(NOW_MS) != payload_at(step_ends_at_ms(step))


def test_code_is_forged_when_signed_with_another_secret_or_altered() -> None:
    genuine = payload_at(NOW_MS)
    signed_part, _, mac = genuine.rpartition(".")
    other_step = genuine.replace(f".{qr_step(NOW_MS)}.", f".{qr_step(NOW_MS) + 1}.")
    other_ticket = genuine.replace(TICKET_ID, TICKET_ID.replace("1", "2"))

    assert verdict(payload_at(NOW_MS, secret=OTHER_SECRET)) is QrVerdict.FORGED
    assert verdict(genuine, secret=OTHER_SECRET) is QrVerdict.FORGED
    assert verdict(f"{signed_part}.{mac[::-1]}") is QrVerdict.FORGED
    assert verdict(other_step) is QrVerdict.FORGED
    assert verdict(other_ticket) is QrVerdict.FORGED


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "hello",
        f"tq2.{TICKET_ID}.1.{'A' * 43}",
        f"tq1.{TICKET_ID.upper()}.1.{'A' * 43}",
        f"tq1.{TICKET_ID}.01.{'A' * 43}",
        f"tq1.{TICKET_ID}.-1.{'A' * 43}",
        f"tq1.{TICKET_ID}.1.{'A' * 42}",
        f"tq1.{TICKET_ID}.1.{'A' * 43}.extra",
        "tq1." + "x" * 500,
    ],
)
def test_payload_is_unreadable_when_it_is_not_exactly_a_code(payload: str) -> None:
    assert read_qr(payload) is None
