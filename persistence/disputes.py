"""Stripe disputes as recorded, one row each, read and moved under the row's lock.

The phase recorded is what the next event's effects are decided from (engine/disputes.py): the
first delivery of a dispute inserts its row, any later one finds it locked and committed, so two
deliveries of the same news cannot both apply it.
"""

import uuid

import asyncpg
import msgspec

from engine.disputes import CLOSED_PHASES, DisputePhase


class DisputeReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a Stripe event says of a dispute."""

    provider_dispute_id: str
    payment_intent_id: str | None
    phase: DisputePhase
    stripe_status: str
    amount_cents: int
    currency: str
    reason: str | None


INSERT_DISPUTE = """
INSERT INTO disputes (tenant_id, provider_dispute_id, order_id, payment_id, status, stripe_status,
                      amount_cents, currency, reason, closed_at)
VALUES (current_setting('app.current_tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8,
        CASE WHEN $4 = 'open' THEN NULL ELSE now() END)
ON CONFLICT (provider_dispute_id) DO NOTHING
RETURNING 1
"""

LOCK_DISPUTE_STATUS = "SELECT status FROM disputes WHERE provider_dispute_id = $1 FOR UPDATE"


async def record_dispute(
    connection: asyncpg.Connection,
    *,
    report: DisputeReport,
    order_id: uuid.UUID,
    payment_id: uuid.UUID,
) -> DisputePhase | None:
    """The phase recorded before this report, its row locked until the transaction ends: None when
    the report's row is new, inserted now in the report's phase."""
    inserted = await connection.fetchval(
        INSERT_DISPUTE,
        report.provider_dispute_id,
        order_id,
        payment_id,
        report.phase,
        report.stripe_status,
        report.amount_cents,
        report.currency,
        report.reason,
    )
    if inserted is not None:
        return None
    status: str | None = await connection.fetchval(LOCK_DISPUTE_STATUS, report.provider_dispute_id)
    assert status is not None, "disputes are never deleted"
    return DisputePhase(status)


MOVE_DISPUTE = """
UPDATE disputes
SET status = $2, stripe_status = $3, amount_cents = $4, updated_at = now(),
    closed_at = CASE WHEN $5 THEN coalesce(closed_at, now()) ELSE NULL END
WHERE provider_dispute_id = $1 AND closed_at IS NULL
"""


async def move_dispute(
    connection: asyncpg.Connection, *, report: DisputeReport, phase: DisputePhase
) -> None:
    """Record `phase` and Stripe's last word on a dispute still open (its row locked)."""
    await connection.execute(
        MOVE_DISPUTE,
        report.provider_dispute_id,
        phase,
        report.stripe_status,
        report.amount_cents,
        phase in CLOSED_PHASES,
    )


SELECT_ORDER_DISPUTES = """
SELECT provider_dispute_id, status, stripe_status, amount_cents, currency
FROM disputes WHERE order_id = $1 ORDER BY created_at, provider_dispute_id
"""


class DisputeRecord(msgspec.Struct, frozen=True, kw_only=True):
    provider_dispute_id: str
    status: DisputePhase
    stripe_status: str
    amount_cents: int
    currency: str


async def load_order_disputes(
    connection: asyncpg.Connection, order_id: uuid.UUID
) -> list[DisputeRecord]:
    rows = await connection.fetch(SELECT_ORDER_DISPUTES, order_id)
    return [DisputeRecord(**{**dict(row), "status": DisputePhase(row["status"])}) for row in rows]
