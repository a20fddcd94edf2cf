"""The rotating QR code of a ticket: an HMAC-SHA256 keyed with the ticket's own secret over the
ticket id and the current time step.

A payload is `tq1.<ticket id>.<step>.<mac b64url>`, the MAC taken over everything before the last
dot; a step lasts QR_STEP_MS. A gate accepts the step it is in and QR_CLOCK_SKEW_STEPS either side,
so a screenshot goes stale within a minute or two. The MAC is compared in constant time before the
step is trusted. Changing the format means a new version prefix, with the old one still read.
"""

import base64
import enum
import hashlib
import hmac
import re

import msgspec

from engine.limits import QR_CLOCK_SKEW_STEPS, QR_PAYLOAD_CHARACTERS_MAX, QR_STEP_MS

PAYLOAD_VERSION = "tq1"
MILLISECONDS_PER_STEP = QR_STEP_MS
PAYLOAD_PATTERN = re.compile(
    r"tq1\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(0|[1-9][0-9]{0,11})"
    r"\.([A-Za-z0-9_-]{43})"
)


class QrPayload(msgspec.Struct, frozen=True, kw_only=True):
    """What a payload claims, before anything in it is verified."""

    ticket_id: str
    step: int
    mac: str


class QrVerdict(enum.StrEnum):
    GENUINE = "genuine"
    FORGED = "forged"
    EXPIRED = "expired"


def qr_step(now_ms: int) -> int:
    return now_ms // MILLISECONDS_PER_STEP


def step_ends_at_ms(step: int) -> int:
    """When the fan's app should show the next code."""
    return (step + 1) * MILLISECONDS_PER_STEP


def _signed_part(ticket_id: str, step: int) -> str:
    return f"{PAYLOAD_VERSION}.{ticket_id}.{step}"


def _mac(secret: bytes, signed_part: str) -> str:
    digest = hmac.new(secret, signed_part.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_qr(*, secret: bytes, ticket_id: str, step: int) -> str:
    """The payload the ticket's owner shows during `step`; `ticket_id` is its canonical text."""
    signed_part = _signed_part(ticket_id, step)
    payload = f"{signed_part}.{_mac(secret, signed_part)}"
    assert PAYLOAD_PATTERN.fullmatch(payload), "ticket ids are canonical lowercase UUID text"
    return payload


def read_qr(payload: str) -> QrPayload | None:
    """The claims of a well-formed payload; None for anything else."""
    if len(payload) > QR_PAYLOAD_CHARACTERS_MAX:
        return None
    match = PAYLOAD_PATTERN.fullmatch(payload)
    if match is None:
        return None
    return QrPayload(ticket_id=match.group(1), step=int(match.group(2)), mac=match.group(3))


def verify_qr(*, secret: bytes, payload: QrPayload, now_ms: int) -> QrVerdict:
    """GENUINE when the MAC is the ticket's and the step is within the skew of `now_ms`."""
    expected = _mac(secret, _signed_part(payload.ticket_id, payload.step))
    if not hmac.compare_digest(payload.mac.encode("ascii"), expected.encode("ascii")):
        return QrVerdict.FORGED
    if abs(payload.step - qr_step(now_ms)) > QR_CLOCK_SKEW_STEPS:
        return QrVerdict.EXPIRED
    return QrVerdict.GENUINE
