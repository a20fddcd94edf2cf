"""An order's history, read from what the system already records about it, in the caller's
tenant transaction: the order and its payment, its refund, its tickets (issued, minted, given
away, scanned, and the venue's locks and reissues kept in the audit log) and the notices sent
about it. Nothing is written for the history's sake; a new kind of record adds a branch here.
"""

import uuid

import asyncpg
import msgspec


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    at_us: int
    kind: str
    actor: str
    details: dict[str, object]


# Every ticket of the order: the first ones and those that replaced them keep its id.
SELECT_ORDER_HISTORY = """
WITH order_tickets AS (SELECT id FROM tickets WHERE order_id = $1)
SELECT (extract(epoch FROM history.at) * 1000000)::bigint AS at_us, history.kind,
       history.actor, history.details::text AS details
FROM (
    SELECT orders.created_at AS at, 'order_created' AS kind,
           CASE WHEN orders.comp_reason IS NULL THEN orders.user_id ELSE 'venue' END AS actor,
           jsonb_build_object('user_id', orders.user_id, 'total_cents', orders.total_cents,
                              'currency', orders.currency, 'comp_reason', orders.comp_reason)
               AS details
    FROM orders WHERE orders.id = $1
    UNION ALL
    SELECT orders.paid_at, 'payment_succeeded', 'stripe',
           jsonb_build_object('payment_intent_id', payments.payment_intent_id,
                              'amount_cents', payments.amount_cents,
                              'currency', payments.currency)
    FROM orders JOIN payments ON payments.order_id = orders.id
    WHERE orders.id = $1 AND orders.paid_at IS NOT NULL
    UNION ALL
    SELECT orders.updated_at, 'payment_failed', 'stripe',
           jsonb_build_object('reason', orders.ended_reason)
    FROM orders WHERE orders.id = $1 AND orders.status = 'payment_failed'
    UNION ALL
    SELECT min(tickets.issued_at), 'tickets_issued', 'system',
           jsonb_build_object('ticket_ids', jsonb_agg(tickets.id ORDER BY tickets.position))
    FROM tickets WHERE tickets.order_id = $1 AND tickets.predecessor_ticket_id IS NULL
    HAVING count(*) > 0
    UNION ALL
    SELECT nft_mints.updated_at, 'ticket_minted', 'system',
           jsonb_build_object('ticket_id', nft_mints.ticket_id,
                              'mint_address', nft_mints.mint_address,
                              'signature', nft_mints.signature)
    FROM nft_mints
    WHERE nft_mints.ticket_id IN (SELECT id FROM order_tickets) AND nft_mints.status = 'minted'
    UNION ALL
    SELECT ticket_transfers.created_at, 'ticket_transferred', ticket_transfers.from_user_id,
           jsonb_build_object('from_ticket_id', ticket_transfers.from_ticket_id,
                              'to_ticket_id', ticket_transfers.to_ticket_id,
                              'to_user_id', ticket_transfers.to_user_id,
                              'nft_status', ticket_transfers.status)
    FROM ticket_transfers WHERE ticket_transfers.from_ticket_id IN (SELECT id FROM order_tickets)
    UNION ALL
    SELECT ticket_scans.scanned_at, 'ticket_scanned', ticket_scans.scanned_by,
           jsonb_build_object('ticket_id', ticket_scans.ticket_id,
                              'result', ticket_scans.result, 'reason', ticket_scans.reason,
                              'device_id', ticket_scans.device_id,
                              'offline', ticket_scans.offline)
    FROM ticket_scans WHERE ticket_scans.ticket_id IN (SELECT id FROM order_tickets)
    UNION ALL
    SELECT audit_log.occurred_at,
           CASE audit_log.action WHEN 'ticket.lock' THEN 'ticket_locked'
                                 WHEN 'ticket.unlock' THEN 'ticket_unlocked'
                                 ELSE 'ticket_reissued' END,
           audit_log.actor,
           audit_log.details || jsonb_build_object('ticket_id', audit_log.subject_id)
    FROM audit_log
    WHERE audit_log.subject_id IN (SELECT id FROM order_tickets)
      AND audit_log.action IN ('ticket.lock', 'ticket.unlock', 'ticket.reissue')
    UNION ALL
    SELECT refunds.created_at, 'refund', CASE refunds.kind WHEN 'venue' THEN 'venue'
                                                          ELSE 'system' END,
           jsonb_build_object('amount_cents', refunds.amount_cents, 'status', refunds.status,
                              'reason', refunds.reason, 'refund_kind', refunds.kind)
    FROM refunds WHERE refunds.order_id = $1
    UNION ALL
    SELECT notifications.sent_at, 'notice_sent', 'system',
           jsonb_build_object('notice', notifications.kind, 'channel', notifications.channel,
                              'recipient', notifications.recipient)
    FROM notifications
    WHERE notifications.order_key = $1::text AND notifications.status = 'sent'
) AS history
ORDER BY history.at, history.kind
LIMIT $2
"""


async def load_order_history(
    connection: asyncpg.Connection, *, order_id: uuid.UUID, limit: int
) -> list[HistoryEntry]:
    """The order's first `limit` entries in time order (an order that does not exist has none)."""
    rows = await connection.fetch(SELECT_ORDER_HISTORY, order_id, limit)
    return [
        HistoryEntry(
            at_us=row["at_us"],
            kind=row["kind"],
            actor=row["actor"],
            details=msgspec.json.decode(row["details"]),
        )
        for row in rows
    ]
