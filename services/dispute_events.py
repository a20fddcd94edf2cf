"""Chargebacks: what Stripe's `charge.dispute.*` events do to the disputed order.

An open dispute freezes the order's tickets (reason `chargeback`) and the ledger records the
money withdrawn; a won one unfreezes them and records it reinstated; a lost one revokes them and
records the loss. The effects follow engine/disputes.py from the phase recorded for the dispute,
in one tenant transaction with its inbox entry, so a webhook delivered twice, late or before the
one it follows applies each effect once.
"""

from collections.abc import Mapping
from typing import Any

from engine.disputes import (
    CLOSED_PHASES,
    PHASE_OF_STRIPE_STATUS,
    STAYS,
    dispute_move,
    phase_after,
    posting_entries,
)
from engine.tickets import TicketAction, TicketReason
from persistence.disputes import DisputeReport, move_dispute, record_dispute
from persistence.fulfilment import record_ledger_entries
from persistence.orders import OrderRecord
from persistence.tenancy import tenant_transaction
from persistence.webhook_inbox import mark_webhook_processed
from services.settlement_parts import SettlementParts
from services.stripe_event_orders import (
    object_id,
    order_paid_through,
    settled_order,
    take_event_once,
)
from services.ticket_moves import move_order_tickets

DISPUTE_ACTOR = "stripe"
# The reason each ticket move of a chargeback records (an unlock takes none, and frees only the
# tickets the chargeback froze).
REASON_OF_TICKET_ACTION: dict[TicketAction, TicketReason | None] = {
    TicketAction.LOCK: TicketReason.CHARGEBACK,
    TicketAction.UNLOCK: None,
    TicketAction.REVOKE: TicketReason.CHARGEBACK,
}


def dispute_report(dispute: Mapping[str, Any]) -> DisputeReport | None:
    """What the event's Dispute says; None for a status this service does not know."""
    stripe_status = str(dispute.get("status"))
    phase = PHASE_OF_STRIPE_STATUS.get(stripe_status)
    amount_cents = dispute.get("amount")
    if phase is None or not isinstance(amount_cents, int) or amount_cents <= 0:
        return None
    reason = dispute.get("reason")
    return DisputeReport(
        provider_dispute_id=str(dispute["id"]),
        payment_intent_id=object_id(dispute.get("payment_intent")),
        phase=phase,
        stripe_status=stripe_status,
        amount_cents=amount_cents,
        currency=str(dispute.get("currency", "")).upper(),
        reason=str(reason)[:255] if reason else None,
    )


async def apply_dispute_created(parts: SettlementParts, event: dict[str, Any]) -> bool:
    """`charge.dispute.created`: the order's tickets frozen, the disputed money withdrawn."""
    return await apply_dispute_event(parts, event)


async def apply_dispute_closed(parts: SettlementParts, event: dict[str, Any]) -> bool:
    """`charge.dispute.closed`: won, the tickets unfrozen and the money reinstated; lost, the
    tickets revoked and the money recorded lost."""
    return await apply_dispute_event(parts, event)


async def apply_dispute_updated(parts: SettlementParts, event: dict[str, Any]) -> bool:
    """`charge.dispute.updated`: nothing new unless it is the first news of the dispute."""
    return await apply_dispute_event(parts, event)


async def apply_dispute_event(parts: SettlementParts, event: dict[str, Any]) -> bool:
    """Apply what the event's Dispute says to our order; False when it is none of ours or adds
    nothing to what is recorded."""
    report = dispute_report(event["data"]["object"])
    if report is None:
        return False
    located = await order_paid_through(parts, report.payment_intent_id)
    if located is None:
        return False
    order = await settled_order(parts, *located)
    return await record_dispute_news(parts, order, report, event)


async def record_dispute_news(
    parts: SettlementParts, order: OrderRecord, report: DisputeReport, event: dict[str, Any]
) -> bool:
    _, payment = order.paid_through()
    async with tenant_transaction(parts.pool, order.tenant_id) as connection:
        if not await take_event_once(connection, order, event):
            return False
        recorded = await record_dispute(
            connection, report=report, order_id=order.order_id, payment_id=payment.payment_id
        )
        move = dispute_move(recorded, report.phase)
        if recorded is not None and recorded not in CLOSED_PHASES:
            await move_dispute(connection, report=report, phase=phase_after(recorded, report.phase))
        if move.ticket_action is not None:
            await move_order_tickets(
                connection,
                order_id=order.order_id,
                action=move.ticket_action,
                reason=REASON_OF_TICKET_ACTION[move.ticket_action],
                actor=DISPUTE_ACTOR,
                note=f"dispute {report.provider_dispute_id} {report.stripe_status}",
                frozen_for=TicketReason.CHARGEBACK
                if move.ticket_action is TicketAction.UNLOCK
                else None,
            )
        for posting in move.postings:
            await record_ledger_entries(
                connection,
                entries=posting_entries(posting, report.amount_cents),
                currency=order.currency,
                order_id=order.order_id,
                payment_id=payment.payment_id,
            )
        await mark_webhook_processed(connection, str(event["id"]))
    return move != STAYS
