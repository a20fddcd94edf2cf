"""A waiting room's settings and the bounds they must keep; the shell checks them before it
creates a room, and a settings change is checked whole against the same bounds."""

import msgspec

from engine.limits import (
    ACCESS_TTL_S_MAX,
    ACCESS_TTL_S_MIN,
    ADMIT_PER_SECOND_MAX,
    ADMIT_PER_SECOND_MIN,
    MAX_ACTIVE_SHOPPERS_MAX,
    MAX_ACTIVE_SHOPPERS_MIN,
)
from engine.rejections import Reason, Rejected


class WaitingRoomSettings(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    opens_at_ms: int
    admit_per_second: int
    max_active_shoppers: int
    access_ttl_s: int


def validate_settings(settings: WaitingRoomSettings) -> Rejected | None:
    """VALIDATION_ERROR for settings outside the limits; the shell checks before creating a room."""
    bounds = {
        "admit_per_second": (settings.admit_per_second, ADMIT_PER_SECOND_MIN, ADMIT_PER_SECOND_MAX),
        "max_active_shoppers": (
            settings.max_active_shoppers,
            MAX_ACTIVE_SHOPPERS_MIN,
            MAX_ACTIVE_SHOPPERS_MAX,
        ),
        "access_ttl_s": (settings.access_ttl_s, ACCESS_TTL_S_MIN, ACCESS_TTL_S_MAX),
    }
    for field, (value, lowest, highest) in bounds.items():
        if not lowest <= value <= highest:
            return invalid(f"{field} must be between {lowest} and {highest}", field=field)
    return None


def invalid(message: str, **details: object) -> Rejected:
    return Rejected(reason=Reason.VALIDATION_ERROR, message=message, details=dict(details))
