"""Access tokens of the waiting room: HMAC-SHA256 over the event, the fan and the expiry time.

A token is `wr1.<event b64url>.<fan b64url>.<expires_at_ms>.<mac b64url>`, the MAC taken over
everything before the last dot. Tokens are derived, never stored: the same admission always yields
the same token. Changing the format means a new version prefix, with the old one still verified.
"""

import base64
import binascii
import hashlib
import hmac

import msgspec

from engine.limits import ACCESS_TOKEN_CHARACTERS_MAX, ACCESS_TOKEN_SECRET_BYTES_MIN
from engine.rejections import Reason, Rejected

TOKEN_VERSION = "wr1"
_PART_COUNT = 5


class AccessGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What a verified token proves: this fan may shop this event until `expires_at_ms`."""

    event_id: str
    fan_id: str
    expires_at_ms: int


def _encode_part(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def _decode_part(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _mac(secret: bytes, signed_part: str) -> str:
    digest = hmac.new(secret, signed_part.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_access_token(*, secret: bytes, event_id: str, fan_id: str, expires_at_ms: int) -> str:
    assert len(secret) >= ACCESS_TOKEN_SECRET_BYTES_MIN, "the composition root checks the secret"
    signed_part = ".".join(
        (TOKEN_VERSION, _encode_part(event_id), _encode_part(fan_id), str(expires_at_ms))
    )
    return f"{signed_part}.{_mac(secret, signed_part)}"


def _not_admitted(message: str) -> Rejected:
    return Rejected(reason=Reason.NOT_ADMITTED, message=message)


def verify_access_token(
    *, secret: bytes, token: str, event_id: str, fan_id: str, now_ms: int
) -> AccessGrant | Rejected:
    """NOT_ADMITTED unless the token is well signed, for this event and fan, and not expired.

    The MAC is compared in constant time before anything inside the token is trusted.
    """
    assert len(secret) >= ACCESS_TOKEN_SECRET_BYTES_MIN, "the composition root checks the secret"
    if len(token) > ACCESS_TOKEN_CHARACTERS_MAX or not token.isascii():
        return _not_admitted("malformed access token")
    parts = token.split(".")
    if len(parts) != _PART_COUNT or parts[0] != TOKEN_VERSION:
        return _not_admitted("malformed access token")
    signed_part, _, presented_mac = token.rpartition(".")
    if not hmac.compare_digest(presented_mac.encode(), _mac(secret, signed_part).encode()):
        return _not_admitted("access token signature does not match")
    try:
        token_event_id = _decode_part(parts[1]).decode()
        token_fan_id = _decode_part(parts[2]).decode()
        expires_at_ms = int(parts[3])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return _not_admitted("malformed access token")
    same_event = hmac.compare_digest(token_event_id.encode(), event_id.encode())
    same_fan = hmac.compare_digest(token_fan_id.encode(), fan_id.encode())
    if not (same_event and same_fan):
        return _not_admitted("access token belongs to another fan or event")
    if now_ms >= expires_at_ms:
        return _not_admitted("access token expired")
    return AccessGrant(event_id=event_id, fan_id=fan_id, expires_at_ms=expires_at_ms)
