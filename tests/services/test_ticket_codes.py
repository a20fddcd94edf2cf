"""A ticket's codes signed and verified with Ed25519: genuine with the ticket's own key, forged
with any other key or any change to the payload, and nothing in a public key signs."""

import pytest

from engine import limits
from engine.ticket_qr import (
    MILLISECONDS_PER_STEP,
    QrPayload,
    QrVerdict,
    qr_step,
    read_qr,
    signed_message,
)
from persistence.ticket_keys import new_code_key_pair, public_key_of
from services.ticket_codes import sign_code, verify_code

TICKET_ID = "0000002a-0000-8000-8000-000000000001"
OTHER_TICKET_ID = "0000002a-0000-8000-8000-000000000002"
NOW_MS = 1_700_000_000_000
KEY_PAIR = new_code_key_pair()


def claims(payload: str) -> QrPayload:
    read = read_qr(payload)
    assert isinstance(read, QrPayload), payload
    return read


def verdict(
    payload: str, public_key: bytes = KEY_PAIR.public_key, now_ms: int = NOW_MS
) -> QrVerdict:
    return verify_code(public_key=public_key, payload=claims(payload), now_ms=now_ms)


def code_at(now_ms: int, seed: bytes = KEY_PAIR.seed, ticket_id: str = TICKET_ID) -> str:
    return sign_code(seed=seed, ticket_id=ticket_id, step=qr_step(now_ms))


def test_key_pair_is_fresh_and_its_public_key_follows_from_its_seed() -> None:
    other = new_code_key_pair()

    assert len(KEY_PAIR.seed) == len(KEY_PAIR.public_key) == 32
    assert public_key_of(KEY_PAIR.seed) == KEY_PAIR.public_key
    assert other.seed != KEY_PAIR.seed and other.public_key != KEY_PAIR.public_key


def test_code_is_genuine_when_signed_by_the_tickets_key_in_its_step() -> None:
    payload = code_at(NOW_MS)

    assert payload.startswith(f"tq2.{TICKET_ID}.{qr_step(NOW_MS)}.")
    assert verdict(payload) is QrVerdict.GENUINE
    assert code_at(NOW_MS) == payload, "Ed25519 signatures are deterministic"
    assert code_at(NOW_MS + MILLISECONDS_PER_STEP) != payload


def test_code_is_expired_when_scanned_beyond_the_skew() -> None:
    late_ms = NOW_MS + (limits.QR_CLOCK_SKEW_STEPS + 1) * MILLISECONDS_PER_STEP

    assert verdict(code_at(NOW_MS), now_ms=late_ms) is QrVerdict.EXPIRED


def test_code_is_forged_when_signed_with_another_key_or_altered() -> None:
    genuine = code_at(NOW_MS)
    signed_part, _, signature = genuine.rpartition(".")
    step = qr_step(NOW_MS)
    other_step = genuine.replace(f".{step}.", f".{step + 1}.")
    other_ticket = genuine.replace(TICKET_ID, OTHER_TICKET_ID)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]

    assert verdict(code_at(NOW_MS, seed=new_code_key_pair().seed)) is QrVerdict.FORGED
    assert verdict(genuine, public_key=new_code_key_pair().public_key) is QrVerdict.FORGED
    assert verdict(f"{signed_part}.{flipped}") is QrVerdict.FORGED
    assert verdict(other_step) is QrVerdict.FORGED
    assert verdict(other_ticket) is QrVerdict.FORGED


def test_public_key_used_as_a_seed_signs_nothing_the_ticket_admits() -> None:
    as_seed = sign_code(seed=KEY_PAIR.public_key, ticket_id=TICKET_ID, step=qr_step(NOW_MS))

    assert verdict(as_seed) is QrVerdict.FORGED


@pytest.mark.parametrize("step", [0, 1, 2**40])
def test_signed_message_covers_version_ticket_and_step(step: int) -> None:
    assert signed_message(ticket_id=TICKET_ID, step=step) == f"tq2.{TICKET_ID}.{step}".encode()
