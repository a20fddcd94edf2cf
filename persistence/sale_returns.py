"""The rows of sales a batch partly returned (a partial refund): the seats and units that stay
sold. Written before the batch ends any sale, while the sale is still live; an item with nothing
left goes, since an item row always sells something."""

import uuid

import asyncpg

from persistence.inventory_batch import BatchEffect, SaleDraft

UPDATE_RETURNED_SALES = """
WITH updated AS (
    UPDATE sales SET seat_labels = string_to_array(kept.seat_labels, ' ')
    FROM unnest($2::uuid[], $3::text[]) AS kept (order_id, seat_labels)
    WHERE sales.order_id = kept.order_id AND sales.event_id = $1 AND sales.status = 'live'
    RETURNING 1
)
SELECT count(*) FROM updated
"""

UPDATE_RETURNED_ITEMS = """
WITH kept AS (
    SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::integer[])
        AS kept (order_id, ticket_type_id, quantity)
), emptied AS (
    DELETE FROM sale_items USING kept
    WHERE sale_items.event_id = $1 AND sale_items.order_id = kept.order_id
      AND sale_items.ticket_type_id = kept.ticket_type_id AND kept.quantity = 0
)
UPDATE sale_items SET quantity = kept.quantity
FROM kept
WHERE sale_items.event_id = $1 AND sale_items.order_id = kept.order_id
  AND sale_items.ticket_type_id = kept.ticket_type_id AND kept.quantity > 0
"""


def _returned(effect: BatchEffect) -> list[SaleDraft]:
    return [draft for draft in effect.sales.values() if draft.returned and not draft.is_new]


async def write_returned_sales(
    connection: asyncpg.Connection, event_id: uuid.UUID, effect: BatchEffect
) -> bool:
    """False when a sale partly returned was not live in Postgres (nothing is then right)."""
    drafts = _returned(effect)
    if not drafts:
        return True
    updated = await connection.fetchval(
        UPDATE_RETURNED_SALES,
        event_id,
        [draft.sale.order_id for draft in drafts],
        [" ".join(draft.sale.seats) for draft in drafts],
    )
    if updated != len(drafts):
        return False
    order_ids: list[str] = []
    ticket_type_ids: list[str] = []
    quantities: list[int] = []
    for draft in drafts:
        kept = {item.ticket_type_id: item.quantity for item in draft.sale.items}
        for ticket_type_id in draft.returned:
            order_ids.append(draft.sale.order_id)
            ticket_type_ids.append(ticket_type_id)
            quantities.append(kept.get(ticket_type_id, 0))
    await connection.execute(
        UPDATE_RETURNED_ITEMS, event_id, order_ids, ticket_type_ids, quantities
    )
    return True
