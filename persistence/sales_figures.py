"""The figures of an event's sale that live only in Postgres: orders by status, revenue, mints,
the tickets given away as comps (sold for nothing, so they add to sold and never to revenue),
the wait list's entries by status and the refunds by where they stand.

Read in the event's tenant transaction by the stats board, at most once a second per event, so a
hundred dashboards cost one query each second, not a hundred.
"""

import uuid

import asyncpg
import msgspec

from persistence.refund_figures import RefundFigures, load_refund_figures
from persistence.wait_list_entries import WaitListFigures, load_wait_list_figures

ORDER_STATUSES = (
    "pending_payment",
    "paid",
    "fulfilled",
    "payment_failed",
    "expired",
    "refunded",
    "cancelled",
)
REVENUE_STATUSES = ("paid", "fulfilled")
MINT_STATUSES = ("pending", "minted", "failed")


class SalesFigures(msgspec.Struct, frozen=True, kw_only=True):
    orders_by_status: dict[str, int]
    revenue_cents: int
    mints_by_status: dict[str, int]
    comps_sold: int = 0
    wait_list: WaitListFigures = WaitListFigures()
    refunds: RefundFigures = RefundFigures()


SELECT_ORDERS = """
SELECT status, count(*) AS orders, coalesce(sum(subtotal_cents), 0)::bigint AS subtotal_cents
FROM orders
WHERE event_id = $1
GROUP BY status
"""

SELECT_MINTS = """
SELECT nft_mints.status, count(*) AS mints
FROM nft_mints JOIN tickets ON tickets.id = nft_mints.ticket_id
WHERE tickets.event_id = $1
GROUP BY nft_mints.status
"""

SELECT_COMPS_SOLD = """
SELECT coalesce(sum(sale_items.quantity), 0)::bigint
FROM sale_items JOIN sales ON sales.order_id = sale_items.order_id
WHERE sales.event_id = $1 AND sales.complimentary AND sales.status = 'live'
"""


async def load_sales_figures(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> SalesFigures:
    """Revenue is the face value of paid orders: fees excluded, refunded orders not counted."""
    orders_by_status = dict.fromkeys(ORDER_STATUSES, 0)
    revenue_cents = 0
    for row in await connection.fetch(SELECT_ORDERS, event_id):
        orders_by_status[row["status"]] = row["orders"]
        if row["status"] in REVENUE_STATUSES:
            revenue_cents += row["subtotal_cents"]
    mints_by_status = dict.fromkeys(MINT_STATUSES, 0)
    for row in await connection.fetch(SELECT_MINTS, event_id):
        mints_by_status[row["status"]] = row["mints"]
    return SalesFigures(
        orders_by_status=orders_by_status,
        revenue_cents=revenue_cents,
        mints_by_status=mints_by_status,
        comps_sold=await connection.fetchval(SELECT_COMPS_SOLD, event_id),
        wait_list=await load_wait_list_figures(connection, event_id=event_id),
        refunds=await load_refund_figures(connection, event_id=event_id),
    )
