"""What every step of settling an order shares: its dependencies, its errors and its reloads.

The steps (checkout, payment outcomes, refunds, reconciliation) are functions over one
`SettlementParts`; none of them knows HTTP or Ray. An engine "no" the caller asked for is
`SettlementRefused`; a dependency that cannot answer now is `SettlementUnavailable`.
"""

import uuid
from collections.abc import Callable
from typing import Protocol

import asyncpg

from engine.commands import Command
from engine.outcomes import Outcome
from engine.rejections import Reason, Rejected
from payments.stripe_api import StripePayments
from persistence.orders import OrderRecord, load_order
from persistence.tenancy import tenant_transaction

# The engine's answers that mean "this hold can no longer be sold": the payment is returned.
HOLD_GONE = frozenset({Reason.HOLD_EXPIRED, Reason.NOT_FOUND})
LATE_PAYMENT_REASON = "the payment arrived after the hold had expired"
WINDOW_ENDED_REASON = "the payment window ended before a payment arrived"
VANISHED_REASON = "the payment no longer exists at the payment provider"


class InventoryCommands(Protocol):
    """Runs one engine command on the event's InventoryActor (through its batching client)."""

    async def __call__(self, event_id: uuid.UUID, command: Command) -> Outcome | Rejected: ...


class SettlementRefused(Exception):
    """The engine said no to a step the caller asked for (e.g. the hold expired at checkout)."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__(rejected.message)
        self.rejected = rejected


class SettlementUnavailable(Exception):
    """A dependency (the InventoryActor) cannot take the step now; nothing was lost, retry later."""


class SettlementParts:
    """The pool, Stripe, the inventory and the clock, as every settlement step reaches them."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        stripe: StripePayments,
        inventory: InventoryCommands,
        clock: Callable[[], int],
    ) -> None:
        self.pool = pool
        self.stripe = stripe
        self.inventory = inventory
        self.clock = clock

    async def order(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> OrderRecord | None:
        async with tenant_transaction(self.pool, tenant_id) as connection:
            return await load_order(connection, order_id)

    async def execute(self, event_id: uuid.UUID, command: Command) -> Outcome:
        """The engine's outcome of `command`, or the refusal or unavailability raised."""
        result = await self.inventory(event_id, command)
        if isinstance(result, Rejected):
            if result.reason in (Reason.UNAVAILABLE, Reason.BUSY):
                raise SettlementUnavailable(result.message)
            raise SettlementRefused(result)
        return result

    async def reloaded(self, order: OrderRecord) -> OrderRecord:
        async with tenant_transaction(self.pool, order.tenant_id) as connection:
            return await reload_in(connection, order)


async def reload_in(connection: asyncpg.Connection, order: OrderRecord) -> OrderRecord:
    reloaded = await load_order(connection, order.order_id)
    assert reloaded is not None, "orders are never deleted"
    return reloaded
