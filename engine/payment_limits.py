"""The limits of payments, Stripe and refunds, read as part of engine.limits (which imports every
name here): change one here, and add a new one here, so engine/limits.py stays one screenful of
the rest."""

# Payments: every Stripe call has a timeout and a bounded retry on network errors, 429 and 5xx
# (a request's calls stop at its deadline, see "Requests"); a pending order's PaymentIntent is
# polled once its webhook has had time to arrive.
STRIPE_CALL_TIMEOUT_MS = 10_000
STRIPE_CALL_ATTEMPTS_MAX = 4
STRIPE_BACKOFF_BASE_MS = 200
STRIPE_BACKOFF_MAX_MS = 3_000
STRIPE_WEBHOOK_TOLERANCE_MS = 300_000
STRIPE_WEBHOOK_BYTES_MAX = 262_144
PAYMENT_FIRST_POLL_AFTER_MS = 10_000
PAYMENT_POLL_INTERVAL_MS = 30_000
ORDERS_RECONCILED_PER_ROUND_MAX = 200
PAYMENT_RECONCILE_INTERVAL_MS = 2_000
# The Supervisor waits this long for a payment worker's reconciler round (up to 200 orders, each
# perhaps a Stripe call with its retries) before it logs the round as failed and asks again.
PAYMENT_RECONCILE_ROUND_TIMEOUT_MS = 120_000
# The Supervisor, starting, waits this long for the payment workers to open (less than the
# gateway waits for the Supervisor's start, engine/limits.SUPERVISOR_START_TIMEOUT_MS).
PAYMENT_WORKER_START_TIMEOUT_MS = 20_000
REFUND_REASON_CHARACTERS_MAX = 1_000
TICKETS_PER_REFUND_MAX = 200
# Refunds run on the payment workers: all of them together call Stripe's refund API at most this
# often (Stripe allows 100 calls/s in live mode, 25 in test mode, for all of an account's calls),
# each worker at its share, with a burst of at most one second's share. A worker runs this many
# refunds at once; the gateway waits this long for the venue's refund before answering 202.
STRIPE_REFUND_CALLS_PER_SECOND_MAX = 20
PAYMENT_WORKERS = 2
PAYMENT_WORKER_REFUNDS_IN_FLIGHT_MAX = 8
REFUND_ERROR_CHARACTERS_MAX = 2_000
VENUE_REFUND_WAIT_MS = 5_000
# Stripe's verified events wait in their inbox for a payment worker. The webhook route waits this
# long for the worker it asks before answering (Stripe waits up to 10 s for an answer); a worker
# holds an event it applies this long at most; a failed attempt waits a backoff from the base,
# doubling up to the cap; a reconciler round applies this many waiting events at most.
STRIPE_EVENT_WAIT_MS = 5_000
STRIPE_EVENT_LEASE_MS = 60_000
STRIPE_EVENT_BACKOFF_BASE_MS = 1_000
STRIPE_EVENT_BACKOFF_MAX_MS = 600_000
STRIPE_EVENTS_APPLIED_PER_ROUND_MAX = 50

assert STRIPE_BACKOFF_BASE_MS <= STRIPE_BACKOFF_MAX_MS
assert STRIPE_REFUND_CALLS_PER_SECOND_MAX >= PAYMENT_WORKERS, "every worker may call Stripe"
assert STRIPE_EVENT_WAIT_MS < STRIPE_EVENT_LEASE_MS
assert STRIPE_EVENT_BACKOFF_BASE_MS <= STRIPE_EVENT_BACKOFF_MAX_MS
