"""Idempotency keys: a replay returns the first outcome and changes nothing; a different request
under the same key is a conflict; keys are forgotten after their time to live."""

import pytest

from engine import limits
from engine.changes import IdempotencyKeyRecorded, IdempotencyKeysForgotten
from engine.commands import ConvertHold, ExpireHolds, HoldBestAvailable, RefundOrder, ReleaseHold
from engine.inventory.apply import execute
from engine.inventory.decision import Decision
from engine.outcomes import HoldView
from engine.rejections import Reason
from tests.engine.inventory_builders import (
    HOLD_TTL_MS,
    NOW_MS,
    accepted,
    build_inventory,
    general_hold,
    rejected,
)

DAY_MS = limits.IDEMPOTENCY_KEY_TTL_MS


def test_first_outcome_returns_and_nothing_changes_when_replayed_with_a_new_hold_id() -> None:
    inventory = build_inventory()
    first = accepted(inventory, general_hold(hold_id="hold-1", idempotency_key="key-1"))
    assert isinstance(first.changes[-1], IdempotencyKeyRecorded)
    before = inventory.comparable_state()
    replay = accepted(
        inventory, general_hold(hold_id="hold-2", idempotency_key="key-1"), NOW_MS + 5
    )
    assert replay.outcome == first.outcome
    assert replay.changes == ()
    assert inventory.comparable_state() == before


def test_first_outcome_returns_when_replayed_after_the_hold_expired() -> None:
    inventory = build_inventory()
    first = accepted(inventory, general_hold(idempotency_key="key-1"))
    replay = accepted(inventory, general_hold(idempotency_key="key-1"), NOW_MS + HOLD_TTL_MS + 1)
    assert replay.outcome == first.outcome


def test_idempotency_conflict_when_the_key_is_reused_for_another_request() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(quantity=2, idempotency_key="key-1"))
    rejected(
        inventory, general_hold(quantity=3, idempotency_key="key-1"), Reason.IDEMPOTENCY_CONFLICT
    )
    best = HoldBestAvailable(
        new_hold_id="hold-2",
        fan_id="fan-1",
        ticket_type_id="RES",
        quantity=2,
        idempotency_key="key-1",
    )
    rejected(inventory, best, Reason.IDEMPOTENCY_CONFLICT)


def test_retry_is_decided_again_when_the_first_attempt_was_rejected() -> None:
    inventory = build_inventory(general_capacity=2)
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1", quantity=2))
    retry = general_hold(hold_id="hold-2", fan_id="fan-2", quantity=2, idempotency_key="key-1")
    rejected(inventory, retry, Reason.SOLD_OUT)
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    outcome = accepted(inventory, retry).outcome
    assert isinstance(outcome, HoldView)
    assert outcome.hold_id == "hold-2"


def test_no_second_effect_when_release_and_refund_are_replayed() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(hold_id="hold-1"))
    release = ReleaseHold(hold_id="hold-1", fan_id="fan-1", idempotency_key="release-1")
    first = accepted(inventory, release)
    assert accepted(inventory, release).outcome == first.outcome
    accepted(inventory, general_hold(hold_id="hold-2"))
    accepted(inventory, ConvertHold(hold_id="hold-2", new_order_id="order-1"))
    refund = RefundOrder(order_id="order-1", idempotency_key="refund-1")
    accepted(inventory, refund)
    replay = accepted(inventory, refund)
    assert replay.changes == ()


@pytest.mark.parametrize("key", ["", "x" * (limits.IDEMPOTENCY_KEY_CHARACTERS_MAX + 1), "a\nb"])
def test_key_is_a_validation_error_when_empty_too_long_or_unprintable(key: str) -> None:
    rejected(build_inventory(), general_hold(idempotency_key=key), Reason.VALIDATION_ERROR)


def test_keys_are_forgotten_when_expiry_runs_after_their_time_to_live() -> None:
    inventory = build_inventory()
    accepted(inventory, general_hold(hold_id="hold-1", fan_id="fan-1", idempotency_key="key-1"))
    accepted(
        inventory,
        general_hold(hold_id="hold-2", fan_id="fan-2", idempotency_key="key-2"),
        NOW_MS + 10,
    )
    early = accepted(inventory, ExpireHolds(), NOW_MS + DAY_MS - 1)
    assert not any(isinstance(change, IdempotencyKeysForgotten) for change in early.changes)
    decision = accepted(inventory, ExpireHolds(), NOW_MS + DAY_MS)
    assert decision.changes[-1] == IdempotencyKeysForgotten(keys=("key-1",))
    assert set(inventory.idempotency_records) == {"key-2"}
    result = execute(inventory, general_hold(hold_id="hold-3", idempotency_key="key-1"), NOW_MS)
    assert isinstance(result, Decision)
    assert result.changes
