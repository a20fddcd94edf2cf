"""The rotating code of a ticket, the pure part: its format, its time steps and the skew a gate
allows. The signing and verifying themselves live in services/ticket_codes.py.

A payload is `tq2.<ticket id>.<step>.<signature b64url>`: an Ed25519 signature, by the ticket's
own key, over everything before the last dot; a step lasts QR_STEP_MS. Only the ticket's public
key is needed to check a code, so a gate holds nothing that can make one. A gate accepts the step
it is in and QR_CLOCK_SKEW_STEPS either side, so a screenshot goes stale within a minute or two.
Changing the format means a new version prefix; an older prefix is read as outdated, never as
malformed, so the gate can tell the fan to load the ticket again.
"""

import base64
import binascii
import enum
import re

import msgspec

from engine.limits import QR_CLOCK_SKEW_STEPS, QR_PAYLOAD_CHARACTERS_MAX, QR_STEP_MS

PAYLOAD_VERSION = "tq2"
OUTDATED_VERSIONS = ("tq1",)
MILLISECONDS_PER_STEP = QR_STEP_MS
SIGNATURE_BYTES = 64
PAYLOAD_PATTERN = re.compile(
    r"tq2\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(0|[1-9][0-9]{0,11})"
    r"\.([A-Za-z0-9_-]{86})"
)


class QrPayload(msgspec.Struct, frozen=True, kw_only=True):
    """What a payload claims, before anything in it is verified."""

    ticket_id: str
    step: int
    signature: bytes

    @property
    def signed_message(self) -> bytes:
        return signed_message(ticket_id=self.ticket_id, step=self.step)


class Unreadable(enum.StrEnum):
    """Why a payload says nothing about any ticket."""

    MALFORMED = "malformed"
    OUTDATED = "outdated"


class QrVerdict(enum.StrEnum):
    GENUINE = "genuine"
    FORGED = "forged"
    EXPIRED = "expired"


def qr_step(now_ms: int) -> int:
    return now_ms // MILLISECONDS_PER_STEP


def step_ends_at_ms(step: int) -> int:
    """When the fan's app should show the next code."""
    return (step + 1) * MILLISECONDS_PER_STEP


def signed_message(*, ticket_id: str, step: int) -> bytes:
    """The bytes a code's signature covers; `ticket_id` is its canonical text."""
    return f"{PAYLOAD_VERSION}.{ticket_id}.{step}".encode("ascii")


def encode_base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_base64url(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def encode_payload(*, ticket_id: str, step: int, signature: bytes) -> str:
    assert len(signature) == SIGNATURE_BYTES, "an Ed25519 signature is 64 bytes"
    message = signed_message(ticket_id=ticket_id, step=step).decode("ascii")
    payload = f"{message}.{encode_base64url(signature)}"
    assert PAYLOAD_PATTERN.fullmatch(payload), "ticket ids are canonical lowercase UUID text"
    return payload


def read_qr(payload: str) -> QrPayload | Unreadable:
    """The claims of a well-formed payload; why it is unreadable otherwise."""
    if len(payload) > QR_PAYLOAD_CHARACTERS_MAX:
        return Unreadable.MALFORMED
    match = PAYLOAD_PATTERN.fullmatch(payload)
    if match is None:
        version = payload.partition(".")[0]
        return Unreadable.OUTDATED if version in OUTDATED_VERSIONS else Unreadable.MALFORMED
    signature = decode_base64url(match.group(3))
    if signature is None or encode_base64url(signature) != match.group(3):
        return Unreadable.MALFORMED
    return QrPayload(ticket_id=match.group(1), step=int(match.group(2)), signature=signature)


def is_step_within_skew(*, step: int, now_ms: int) -> bool:
    return abs(step - qr_step(now_ms)) <= QR_CLOCK_SKEW_STEPS


def judge_code(*, signature_verifies: bool, step: int, now_ms: int) -> QrVerdict:
    """GENUINE when the signature is the ticket's and the step is within the skew of `now_ms`.
    The signature is judged first: a forged code's step says nothing."""
    if not signature_verifies:
        return QrVerdict.FORGED
    if not is_step_within_skew(step=step, now_ms=now_ms):
        return QrVerdict.EXPIRED
    return QrVerdict.GENUINE
