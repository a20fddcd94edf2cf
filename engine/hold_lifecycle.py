"""The life of a hold's row, as one table of allowed moves: `active` until it is released by its
fan, expires, or is converted into an order's sale; each end is final (the schema's trigger
refuses leaving it). An extension keeps a hold active and is no move.

A fan reading an active hold past its expiry, before the sweep has ended it, sees it `expired`
(`hold_status_seen_at`). Change the table, never the callers: the tests walk it exhaustively.
"""

import enum


class HoldStatus(enum.StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    CONVERTED = "converted"


class HoldAction(enum.StrEnum):
    RELEASE = "release"
    EXPIRE = "expire"
    CONVERT = "convert"


HOLD_TRANSITIONS: dict[HoldStatus, dict[HoldAction, HoldStatus]] = {
    HoldStatus.ACTIVE: {
        HoldAction.RELEASE: HoldStatus.RELEASED,
        HoldAction.EXPIRE: HoldStatus.EXPIRED,
        HoldAction.CONVERT: HoldStatus.CONVERTED,
    },
    HoldStatus.RELEASED: {},
    HoldStatus.EXPIRED: {},
    HoldStatus.CONVERTED: {},
}

HOLD_STARTING_STATUS = HoldStatus.ACTIVE
HOLD_TERMINAL_STATUSES = frozenset({HoldStatus.RELEASED, HoldStatus.EXPIRED, HoldStatus.CONVERTED})

assert set(HOLD_TRANSITIONS) == set(HoldStatus), "every status has a row"
assert {action for moves in HOLD_TRANSITIONS.values() for action in moves} == set(HoldAction), (
    "every action moves some status"
)
assert {
    status for status, moves in HOLD_TRANSITIONS.items() if not moves
} == HOLD_TERMINAL_STATUSES, "a status is terminal exactly when it has no way out"
assert all(
    len({moves[action] for moves in HOLD_TRANSITIONS.values() if action in moves}) == 1
    for action in HoldAction
), "each action leads to one status, wherever it starts"


def next_hold_status(status: HoldStatus, action: HoldAction) -> HoldStatus:
    """The status `action` moves a `status` hold to; an illegal move is a bug."""
    after = HOLD_TRANSITIONS[status].get(action)
    assert after is not None, f"a {status} hold cannot {action}"
    return after


def hold_status_seen_at(status: HoldStatus, *, expires_at_ms: int, now_ms: int) -> HoldStatus:
    """The status a fan sees: an active hold past its expiry has expired, swept or not."""
    if status is HoldStatus.ACTIVE and expires_at_ms <= now_ms:
        return next_hold_status(status, HoldAction.EXPIRE)
    return status
