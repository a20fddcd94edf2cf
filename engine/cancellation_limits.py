"""The limits of a cancellation's refund job (engine/limits.py is full): how many paid orders one
page opens refunds for, in one transaction, and how long one delivery of the job pages on before
it leaves the rest to the next delivery, inside the outbox's delivery timeout."""

from engine.limits import OUTBOX_DELIVERY_TIMEOUT_MS

CANCELLATION_REFUNDS_PER_PAGE = 100
CANCELLATION_JOB_DELIVERY_BUDGET_MS = 20_000

assert 1 <= CANCELLATION_REFUNDS_PER_PAGE <= 1_000
assert CANCELLATION_JOB_DELIVERY_BUDGET_MS < OUTBOX_DELIVERY_TIMEOUT_MS
