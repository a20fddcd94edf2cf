"""Which Stripe failures are retried, how long the backoff grows, and what surfaces at the end."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import pytest
import stripe

from engine import limits
from payments.stripe_api import (
    PaymentDeclined,
    PaymentProviderUnavailable,
    backoff_s,
    with_retries,
)


def failing_then_answering(failures: list[Exception]) -> Callable[[], Awaitable[str]]:
    remaining = list(failures)

    async def send() -> str:
        if remaining:
            raise remaining.pop(0)
        return "answer"

    return send


class Sleeps:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


class SleepingClock(Sleeps):
    """Monotonic seconds that move only when the code under test sleeps."""

    def __init__(self) -> None:
        super().__init__()
        self.now_s = 1_000.0

    def monotonic_s(self) -> float:
        return self.now_s

    async def __call__(self, seconds: float) -> None:
        await super().__call__(seconds)
        self.now_s += seconds


# What a loaded machine may add to a bound; a bound, never a benchmark.
MARGIN_S = 1.0


@pytest.mark.parametrize(
    "failure",
    [
        stripe.APIConnectionError("connection reset"),
        stripe.RateLimitError("slow down", http_status=429),
        stripe.APIError("boom", http_status=500),
        stripe.APIError("bad gateway", http_status=502),
    ],
    ids=["network", "429", "500", "502"],
)
async def test_network_errors_429_and_5xx_are_retried_until_an_answer(failure: Exception) -> None:
    sleeps = Sleeps()

    answer = await with_retries(
        failing_then_answering([failure, failure]),
        attempts=4,
        generator=random.Random(7),
        sleep=sleeps,
    )

    assert answer == "answer"
    assert len(sleeps.seconds) == 2


@pytest.mark.parametrize(
    "failure",
    [
        stripe.InvalidRequestError("no such payment_intent", param="id", http_status=404),
        stripe.AuthenticationError("bad key", http_status=401),
        stripe.InvalidRequestError("bad amount", param="amount", http_status=400),
    ],
    ids=["404", "401", "400"],
)
async def test_other_client_errors_are_never_retried(failure: Exception) -> None:
    sleeps = Sleeps()

    with pytest.raises(PaymentProviderUnavailable) as raised:
        await with_retries(
            failing_then_answering([failure]), attempts=4, generator=random.Random(), sleep=sleeps
        )

    assert sleeps.seconds == []
    assert raised.value.__cause__ is failure


async def test_a_declined_card_surfaces_as_declined_at_once() -> None:
    declined = stripe.CardError("Your card was declined.", param=None, code="card_declined")

    with pytest.raises(PaymentDeclined) as raised:
        await with_retries(
            failing_then_answering([declined]),
            attempts=4,
            generator=random.Random(),
            sleep=Sleeps(),
        )

    assert raised.value.decline_code == "card_declined"


async def test_after_the_last_attempt_the_failure_surfaces_never_a_success() -> None:
    sleeps = Sleeps()
    failure = stripe.APIConnectionError("down")

    with pytest.raises(PaymentProviderUnavailable):
        await with_retries(
            failing_then_answering([failure] * 10),
            attempts=3,
            generator=random.Random(),
            sleep=sleeps,
        )

    assert len(sleeps.seconds) == 2


def test_backoff_is_jittered_under_a_ceiling_that_doubles_and_is_capped() -> None:
    generator = random.Random(1)
    for attempt in range(12):
        ceiling_s = min(limits.STRIPE_BACKOFF_BASE_MS * 2**attempt, limits.STRIPE_BACKOFF_MAX_MS)
        samples = [backoff_s(attempt, generator) for _ in range(200)]
        assert all(0 <= sample <= ceiling_s / 1_000 for sample in samples)
        assert max(samples) > ceiling_s / 1_000 / 2


async def test_retries_stop_before_the_deadline_when_stripe_keeps_failing() -> None:
    clock = SleepingClock()
    deadline_s = clock.now_s + 0.5

    with pytest.raises(PaymentProviderUnavailable) as raised:
        await with_retries(
            failing_then_answering([stripe.APIConnectionError("down")] * 100),
            attempts=100,
            generator=random.Random(3),
            deadline_s=deadline_s,
            sleep=clock,
            monotonic_s=clock.monotonic_s,
        )

    assert clock.now_s < deadline_s
    assert 1 <= len(clock.seconds) < 99
    assert "deadline" in str(raised.value)


async def test_an_attempt_waits_only_the_time_left_when_stripe_does_not_answer() -> None:
    async def silent() -> str:
        await asyncio.Event().wait()
        return "never"

    time_left_s = 0.2
    started_s = time.monotonic()
    with pytest.raises(PaymentProviderUnavailable):
        await with_retries(
            silent,
            attempts=4,
            generator=random.Random(),
            deadline_s=started_s + time_left_s,
        )

    assert time.monotonic() - started_s < time_left_s + MARGIN_S
