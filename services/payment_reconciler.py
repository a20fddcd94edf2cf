"""The payment reconciler: finishes what lost webhooks and crashes leave half-way.

Stripe's webhooks can be lost (localstripe sends each only once), and a process can die between
two steps of settling an order. Each round asks Postgres which tenants have an unsettled payment
(persistence.tenant_probes), then each of those tenants for the orders that need a step
(persistence.orders.orders_to_reconcile) and takes each one step further through the
settlement, which asks Stripe where it must. One order's failure is logged and retried next round;
it never stops the others.
"""

import logging

import asyncpg
import msgspec

from engine import limits
from persistence.orders import orders_to_reconcile
from persistence.tenancy import tenant_transaction
from persistence.tenant_probes import tenants_with_unsettled_payments
from services.settlement import Settlement

log = logging.getLogger(__name__)


class ReconciliationReport(msgspec.Struct, kw_only=True):
    examined: int = 0
    failed: int = 0


class PaymentReconciler:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        settlement: Settlement,
        first_poll_after_ms: int = limits.PAYMENT_FIRST_POLL_AFTER_MS,
    ) -> None:
        self._pool = pool
        self._settlement = settlement
        self._first_poll_after_ms = first_poll_after_ms

    async def reconcile_round(self, now_ms: int) -> ReconciliationReport:
        report = ReconciliationReport()
        async with self._pool.acquire() as connection:
            tenants = await tenants_with_unsettled_payments(connection)
        for tenant_id in tenants:
            async with tenant_transaction(self._pool, tenant_id) as connection:
                order_ids = await orders_to_reconcile(
                    connection,
                    first_poll_after_ms=self._first_poll_after_ms,
                    now_ms=now_ms,
                    limit=limits.ORDERS_RECONCILED_PER_ROUND_MAX,
                )
            for order_id in order_ids:
                report.examined += 1
                try:
                    await self._settlement.reconcile(tenant_id, order_id)
                except Exception:
                    report.failed += 1
                    log.exception("an order could not be reconciled", extra={"order": order_id})
        return report
