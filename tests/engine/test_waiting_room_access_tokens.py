"""Access tokens: a token issued for a fan and an event verifies only for them, only before it
expires, and only under the secret that signed it; everything else is NOT_ADMITTED."""

import pytest

from engine.access_tokens import AccessGrant, _mac, issue_access_token, verify_access_token
from engine.limits import ACCESS_TOKEN_CHARACTERS_MAX
from engine.rejections import Reason, Rejected

SECRET = b"s" * 32
OTHER_SECRET = b"o" * 32
EVENT_ID = "7a0c8a6e-2f6b-4c1e-9a55-3f1d2b7c9e10"
FAN_ID = "fan-123"
EXPIRES_AT_MS = 1_000_000


def issue(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "secret": SECRET,
        "event_id": EVENT_ID,
        "fan_id": FAN_ID,
        "expires_at_ms": EXPIRES_AT_MS,
    }
    arguments.update(overrides)
    return issue_access_token(**arguments)  # type: ignore[arg-type]


def verify(token: str, **overrides: object) -> AccessGrant | Rejected:
    arguments: dict[str, object] = {
        "secret": SECRET,
        "token": token,
        "event_id": EVENT_ID,
        "fan_id": FAN_ID,
        "now_ms": EXPIRES_AT_MS - 1,
    }
    arguments.update(overrides)
    return verify_access_token(**arguments)  # type: ignore[arg-type]


def assert_not_admitted(outcome: AccessGrant | Rejected) -> None:
    assert isinstance(outcome, Rejected), outcome
    assert outcome.reason is Reason.NOT_ADMITTED


def test_grant_is_returned_when_the_token_matches_fan_event_and_time() -> None:
    assert verify(issue()) == AccessGrant(
        event_id=EVENT_ID, fan_id=FAN_ID, expires_at_ms=EXPIRES_AT_MS
    )


def test_same_token_is_issued_when_issued_twice_for_the_same_admission() -> None:
    assert issue() == issue()


def test_grant_is_returned_when_the_fan_id_holds_dots_and_non_ascii_text() -> None:
    fan_id = "ana.maría@example.com"
    assert isinstance(verify(issue(fan_id=fan_id), fan_id=fan_id), AccessGrant)


def test_not_admitted_when_the_token_has_expired() -> None:
    assert_not_admitted(verify(issue(), now_ms=EXPIRES_AT_MS))


def test_not_admitted_when_the_token_belongs_to_another_fan() -> None:
    assert_not_admitted(verify(issue(fan_id="fan-456")))


def test_not_admitted_when_the_token_belongs_to_another_event() -> None:
    assert_not_admitted(verify(issue(event_id="another-event")))


def test_not_admitted_when_the_token_was_signed_with_another_secret() -> None:
    assert_not_admitted(verify(issue(secret=OTHER_SECRET)))


def test_not_admitted_when_the_expiry_was_pushed_back_in_the_token() -> None:
    version, event_part, fan_part, _, mac = issue().split(".")
    forged = ".".join((version, event_part, fan_part, str(EXPIRES_AT_MS * 10), mac))
    assert_not_admitted(verify(forged, now_ms=EXPIRES_AT_MS + 5))


def test_not_admitted_when_the_signature_is_altered() -> None:
    token = issue()
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_not_admitted(verify(altered))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "wr1.a.b.c",
        "wr2.a.b.1.mac",
        "wr1.a.b.1.mac.extra",
        "wr1.é.b.1.mac",
        "x" * (ACCESS_TOKEN_CHARACTERS_MAX + 1),
    ],
)
def test_not_admitted_when_the_token_is_malformed(token: str) -> None:
    assert_not_admitted(verify(token))


def test_not_admitted_when_a_well_signed_token_carries_an_unreadable_expiry() -> None:
    signed_part = "wr1.ZQ.Zg.soon"
    token = f"{signed_part}.{_mac(SECRET, signed_part)}"
    assert_not_admitted(verify(token, event_id="e", fan_id="f"))


def test_issuing_fails_when_the_secret_is_too_short() -> None:
    with pytest.raises(AssertionError):
        issue(secret=b"short")
