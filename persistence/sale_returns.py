"""The rows of sales a batch partly returned (a partial refund): the seats and units that stay
sold, and the end of the returned seats' claims by the hold that sold them (a new hold may claim
them in the same batch). Written before the batch ends any sale or claims a seat, while the sale
is still live; an item with nothing left goes, since an item row always sells something."""

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

DELETE_RETURNED_ITEMS = """
DELETE FROM sale_items WHERE event_id = $1 AND order_id = ANY($2::uuid[])
"""

INSERT_KEPT_ITEMS = """
INSERT INTO sale_items (order_id, ticket_type_id, tenant_id, event_id, position, quantity,
                        unit_price_cents)
SELECT kept.order_id, kept.ticket_type_id, current_setting('app.current_tenant_id')::uuid, $1,
       kept.position, kept.quantity, kept.unit_price_cents
FROM unnest($2::uuid[], $3::uuid[], $4::integer[], $5::integer[], $6::bigint[])
     AS kept (order_id, ticket_type_id, position, quantity, unit_price_cents)
"""


END_RETURNED_SEAT_CLAIMS = """
UPDATE hold_seats SET live = false
FROM seats
WHERE hold_seats.event_id = $1 AND hold_seats.live AND hold_seats.seat_id = seats.id
  AND seats.event_id = $1 AND seats.label = ANY($2::text[])
"""


def _returned(effect: BatchEffect) -> list[SaleDraft]:
    return [draft for draft in effect.sales.values() if draft.returned and not draft.is_new]


async def write_returned_sales(
    connection: asyncpg.Connection, event_id: uuid.UUID, effect: BatchEffect
) -> bool:
    """False when a sale partly returned was not live in Postgres (nothing is then right)."""
    returned_seats = [seat for draft in effect.sales.values() for seat in draft.returned_seats]
    if returned_seats:
        await connection.execute(END_RETURNED_SEAT_CLAIMS, event_id, returned_seats)
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
    await connection.execute(
        DELETE_RETURNED_ITEMS, event_id, [draft.sale.order_id for draft in drafts]
    )
    kept = [
        (draft.sale.order_id, position, item)
        for draft in drafts
        for position, item in enumerate(draft.sale.items)
    ]
    await connection.execute(
        INSERT_KEPT_ITEMS,
        event_id,
        [order_id for order_id, _, _ in kept],
        [item.ticket_type_id for _, _, item in kept],
        [position for _, position, _ in kept],
        [item.quantity for _, _, item in kept],
        [item.unit_price_cents for _, _, item in kept],
    )
    return True
