"""The rotating code's pure part: its format read strictly (an old version read as outdated, not
as malformed), its steps, and the verdict from a signature's check and the clock skew."""

import pytest

from engine import limits
from engine.ticket_qr import (
    MILLISECONDS_PER_STEP,
    SIGNATURE_BYTES,
    QrPayload,
    QrVerdict,
    Unreadable,
    encode_base64url,
    encode_payload,
    judge_code,
    qr_step,
    read_qr,
    signed_message,
    step_ends_at_ms,
)

TICKET_ID = "0000002a-0000-8000-8000-000000000001"
NOW_MS = 1_700_000_000_000
SIGNATURE = bytes(range(SIGNATURE_BYTES))


def test_payload_reads_back_as_what_was_encoded() -> None:
    payload = encode_payload(ticket_id=TICKET_ID, step=qr_step(NOW_MS), signature=SIGNATURE)

    assert payload.startswith(f"tq2.{TICKET_ID}.{qr_step(NOW_MS)}.")
    assert read_qr(payload) == QrPayload(
        ticket_id=TICKET_ID, step=qr_step(NOW_MS), signature=SIGNATURE
    )
    claims = read_qr(payload)
    assert isinstance(claims, QrPayload)
    assert claims.signed_message == f"tq2.{TICKET_ID}.{qr_step(NOW_MS)}".encode()
    assert claims.signed_message == signed_message(ticket_id=TICKET_ID, step=qr_step(NOW_MS))


@pytest.mark.parametrize(
    "steps_away", range(-limits.QR_CLOCK_SKEW_STEPS, limits.QR_CLOCK_SKEW_STEPS + 1)
)
def test_code_is_genuine_when_the_clocks_differ_by_at_most_the_skew(steps_away: int) -> None:
    step = qr_step(NOW_MS + steps_away * MILLISECONDS_PER_STEP)

    assert judge_code(signature_verifies=True, step=step, now_ms=NOW_MS) is QrVerdict.GENUINE


@pytest.mark.parametrize(
    "steps_away", [-3, -(limits.QR_CLOCK_SKEW_STEPS + 1), limits.QR_CLOCK_SKEW_STEPS + 1]
)
def test_code_is_expired_when_its_step_is_beyond_the_skew(steps_away: int) -> None:
    step = qr_step(NOW_MS + steps_away * MILLISECONDS_PER_STEP)

    assert judge_code(signature_verifies=True, step=step, now_ms=NOW_MS) is QrVerdict.EXPIRED


@pytest.mark.parametrize("steps_away", [0, 5])
def test_code_is_forged_when_its_signature_fails_whatever_its_step(steps_away: int) -> None:
    step = qr_step(NOW_MS) + steps_away

    assert judge_code(signature_verifies=False, step=step, now_ms=NOW_MS) is QrVerdict.FORGED


def test_code_rotates_at_least_every_thirty_seconds() -> None:
    assert limits.QR_STEP_MS <= 30_000
    step = qr_step(NOW_MS)
    assert step_ends_at_ms(step) - NOW_MS <= limits.QR_STEP_MS
    assert qr_step(step_ends_at_ms(step)) == step + 1


def test_payload_is_outdated_when_it_is_a_tq1_code() -> None:
    assert read_qr(f"tq1.{TICKET_ID}.1.{'A' * 43}") is Unreadable.OUTDATED


SIGNATURE_TEXT = encode_base64url(SIGNATURE)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "hello",
        f"tq2.{TICKET_ID}.1.{'A' * 43}",
        f"tq2.{TICKET_ID.upper()}.1.{SIGNATURE_TEXT}",
        f"tq2.{TICKET_ID}.01.{SIGNATURE_TEXT}",
        f"tq2.{TICKET_ID}.-1.{SIGNATURE_TEXT}",
        f"tq2.{TICKET_ID}.1.{SIGNATURE_TEXT[:-1]}",
        f"tq2.{TICKET_ID}.1.{SIGNATURE_TEXT}.extra",
        f"tq2.{TICKET_ID}.1.{SIGNATURE_TEXT[:-1]}B",
        "tq2." + "x" * 500,
        "tq1." + "x" * 500,
    ],
)
def test_payload_is_malformed_when_it_is_not_exactly_a_code(payload: str) -> None:
    assert read_qr(payload) is Unreadable.MALFORMED
