"""The only code that talks to Stripe: PaymentIntents, test confirmations and refunds.

Every call has a timeout and is retried with exponential backoff and full jitter on network errors,
429 and 5xx, and never on another 4xx; a call made for a request waits only the time left before
its deadline, and its retries stop there. Every call that creates or changes something carries the
idempotency key its caller stored beforehand, so a retry, here or after a crash, cannot charge or
refund twice. A failure surfaces as `PaymentProviderUnavailable` or `PaymentDeclined`, never as a
made-up success.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import msgspec
import stripe

from engine import limits

T = TypeVar("T")

# Stripe's test PaymentMethods for the card numbers the development pay endpoint accepts. Stripe
# refuses raw card numbers from servers; the same ids work against Stripe in test mode and
# against the embedded localstripe.
TEST_PAYMENT_METHODS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "4000000000000002": "pm_card_visa_chargeDeclined",
    "4000000000000341": "pm_card_chargeCustomerFail",
}


class PaymentProviderUnavailable(Exception):
    """Stripe did not answer, or answered 429 or 5xx, on every attempt; or refused the call."""


class PaymentRefused(PaymentProviderUnavailable):
    """Stripe answered that the call can never succeed as made (a 4xx other than 404 and 429)."""


class PaymentIntentMissing(PaymentProviderUnavailable):
    """Stripe answered 404: it has no such PaymentIntent (test data deleted, a store lost)."""


class PaymentDeclined(Exception):
    def __init__(self, message: str, decline_code: str | None) -> None:
        super().__init__(message)
        self.decline_code = decline_code


class PaymentIntentState(msgspec.Struct, frozen=True, kw_only=True):
    payment_intent_id: str
    status: str
    client_secret: str
    amount_cents: int
    currency: str
    metadata: dict[str, str]
    declined: bool

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def cancelled(self) -> bool:
        return self.status == "canceled"


def payment_intent_state(intent: Any) -> PaymentIntentState:
    """The fields we use of a PaymentIntent, from the SDK's object or a webhook's plain dict."""
    fields = intent.to_dict() if isinstance(intent, stripe.StripeObject) else intent
    return PaymentIntentState(
        payment_intent_id=fields["id"],
        status=fields["status"],
        client_secret=fields.get("client_secret") or "",
        amount_cents=int(fields["amount"]),
        currency=str(fields["currency"]).upper(),
        metadata={str(key): str(value) for key, value in (fields.get("metadata") or {}).items()},
        declined=fields["status"] == "requires_payment_method"
        and fields.get("last_payment_error") is not None,
    )


def is_retryable(error: stripe.StripeError) -> bool:
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    status = error.http_status
    return status is not None and status >= 500


def without_deadline() -> float | None:
    """The deadline of calls made for no request (the reconciler's): none."""
    return None


def backoff_s(attempt: int, generator: random.Random) -> float:
    """Full jitter under an exponentially growing, capped ceiling."""
    ceiling_ms = min(limits.STRIPE_BACKOFF_BASE_MS * 2**attempt, limits.STRIPE_BACKOFF_MAX_MS)
    return generator.uniform(0, ceiling_ms) / 1_000


class StripePayments:
    def __init__(
        self,
        *,
        api_key: str,
        api_base: str | None,
        attempts: int = limits.STRIPE_CALL_ATTEMPTS_MAX,
        deadline_s: Callable[[], float | None] = without_deadline,
    ) -> None:
        """`deadline_s` gives the moment (time.monotonic) by which the caller needs its answer,
        or None."""
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            max_network_retries=0,
            http_client=stripe.HTTPXClient(
                timeout=limits.STRIPE_CALL_TIMEOUT_MS / limits.MILLISECONDS_PER_SECOND
            ),
        )
        self._attempts = attempts
        self._deadline_s = deadline_s
        self._random = random.Random()

    async def create_payment_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> PaymentIntentState:
        intents = self._client.v1.payment_intents
        intent = await self._call(
            lambda: intents.create_async(
                params={
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    # stripe's params type names only the newer `allowed_payment_method_types`,
                    # which localstripe (the embedded server) rejects
                    "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
                    "metadata": dict(metadata),
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return payment_intent_state(intent)

    async def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentState:
        """Raises PaymentIntentMissing when Stripe has no such PaymentIntent."""
        intents = self._client.v1.payment_intents
        try:
            intent = await self._call(lambda: intents.retrieve_async(payment_intent_id))
        except PaymentProviderUnavailable as unavailable:
            refusal = unavailable.__cause__
            if isinstance(refusal, stripe.InvalidRequestError) and refusal.http_status == 404:
                raise PaymentIntentMissing(str(unavailable)) from refusal
            raise
        return payment_intent_state(intent)

    async def confirm_with_test_card(
        self, payment_intent_id: str, *, card_number: str, idempotency_key: str
    ) -> PaymentIntentState:
        """Attach the card's test PaymentMethod and confirm, as Stripe.js would in a browser.

        Raises PaymentDeclined when the card is declined.
        """
        intents = self._client.v1.payment_intents
        payment_method = TEST_PAYMENT_METHODS[card_number]
        await self._call(
            lambda: intents.update_async(
                payment_intent_id,
                params={"payment_method": payment_method},
                options={"idempotency_key": f"{idempotency_key}:attach"},
            )
        )
        intent = await self._call(
            lambda: intents.confirm_async(
                payment_intent_id, options={"idempotency_key": f"{idempotency_key}:confirm"}
            )
        )
        return payment_intent_state(intent)

    async def cancel_payment_intent(
        self, payment_intent_id: str, *, idempotency_key: str
    ) -> PaymentIntentState:
        """Cancel a PaymentIntent that has not succeeded; a succeeded or cancelled one is
        returned as it is. Raises PaymentIntentMissing when Stripe has no such PaymentIntent."""
        intents = self._client.v1.payment_intents
        try:
            intent = await self._call(
                lambda: intents.cancel_async(
                    payment_intent_id, options={"idempotency_key": idempotency_key}
                )
            )
        except PaymentProviderUnavailable as unavailable:
            if not isinstance(unavailable.__cause__, stripe.InvalidRequestError):
                raise
            return await self.retrieve_payment_intent(payment_intent_id)
        return payment_intent_state(intent)

    async def refund(
        self,
        payment_intent_id: str,
        *,
        amount_cents: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> str:
        """Refund `amount_cents` of the PaymentIntent's charge; the refund's id."""
        refunds = self._client.v1.refunds
        refund = await self._call(
            lambda: refunds.create_async(
                params={
                    "payment_intent": payment_intent_id,
                    "amount": amount_cents,
                    "metadata": dict(metadata),
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return str(refund["id"])

    async def _call(self, send: Callable[[], Awaitable[T]]) -> T:
        return await with_retries(
            send, attempts=self._attempts, generator=self._random, deadline_s=self._deadline_s()
        )


async def with_retries(
    send: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    generator: random.Random,
    deadline_s: float | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    monotonic_s: Callable[[], float] = time.monotonic,
) -> T:
    """Send until it answers, retrying only what Stripe says may succeed later. With a deadline
    (on the `monotonic_s` clock), each attempt waits only the time left, and no attempt starts
    that its backoff would push past it."""
    failed_attempts = 0
    while True:
        try:
            return await within(send, deadline_s, monotonic_s)
        except stripe.CardError as declined:
            raise PaymentDeclined(
                declined.user_message or "the card was declined", declined.code
            ) from declined
        except (stripe.StripeError, TimeoutError) as error:
            failed_attempts += 1
            if isinstance(error, stripe.StripeError) and not is_retryable(error):
                raise PaymentRefused(
                    f"Stripe refused the call: {error.user_message or error}"
                ) from error
            if failed_attempts == attempts:
                raise PaymentProviderUnavailable(
                    f"Stripe did not answer after {attempts} attempts: {error!r}"
                ) from error
            delay_s = backoff_s(failed_attempts, generator)
            if deadline_s is not None and monotonic_s() + delay_s >= deadline_s:
                raise PaymentProviderUnavailable(
                    f"Stripe did not answer before the deadline: {error!r}"
                ) from error
            await sleep(delay_s)


async def within(
    send: Callable[[], Awaitable[T]], deadline_s: float | None, monotonic_s: Callable[[], float]
) -> T:
    """One attempt, raising TimeoutError if it has not answered by `deadline_s`. What Stripe does
    with a call given up on is safe: every call that changes something carries its key."""
    if deadline_s is None:
        return await send()
    async with asyncio.timeout(max(0.0, deadline_s - monotonic_s())):
        return await send()
