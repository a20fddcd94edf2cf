"""A fan's own orders over HTTP (API.md v1.1): every order they checked out, or were given, across
the events of every tenant, newest first, a page at a time.

Each tenant that sold to the fan is read in its own transaction (persistence.order_buyers names
them), a page from each, and the pages are merged; the cursor is the last shown order's position.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import desk_limits
from gateway.cursors import decode_order_position, encode_order_position, page_limit
from gateway.desk_schemas import MyOrderList
from gateway.exchange import authenticate, json_response
from gateway.routes.orders import order_view_with
from gateway.state import gateway_state
from persistence.order_buyers import tenants_selling_to
from persistence.order_search import ByBuyer, OrderFilter, OrderPosition, find_order_page
from persistence.orders import OrderRecord, load_orders
from persistence.refunds import RefundRecord, load_refunds_of_orders
from persistence.tenancy import tenant_transaction
from persistence.tickets import TicketRecord, load_tickets_of_orders

router = APIRouter()


@router.get("/v1/me/orders")
async def list_my_orders(request: Request) -> Response:
    principal = await authenticate(request)
    query = request.query_params
    limit = page_limit(
        query.get("limit"),
        default=desk_limits.ORDERS_LISTED_DEFAULT,
        maximum=desk_limits.ORDERS_LISTED_MAX,
    )
    cursor = query.get("cursor")
    after: OrderPosition | None = None if cursor is None else decode_order_position(cursor)
    pool = gateway_state(request).database_pool
    tenants = await tenants_selling_to(
        pool, buyer_user_id=principal.caller, limit=desk_limits.TENANTS_PER_ORDER_LISTING_MAX
    )
    found: list[tuple[OrderPosition, OrderRecord, list[TicketRecord], list[RefundRecord]]] = []
    for tenant_id in tenants:
        async with tenant_transaction(pool, tenant_id) as connection:
            positions = await find_order_page(
                connection,
                found=OrderFilter(match=ByBuyer(user_id=principal.caller)),
                after=after,
                limit=limit + 1,
            )
            order_ids = [position.order_id for position in positions]
            orders = {order.order_id: order for order in await load_orders(connection, order_ids)}
            tickets = await load_tickets_of_orders(connection, order_ids)
            refunds = await load_refunds_of_orders(connection, order_ids)
        found.extend(
            (
                position,
                orders[position.order_id],
                tickets[position.order_id],
                refunds[position.order_id],
            )
            for position in positions
        )
    found.sort(key=lambda row: (row[0].created_at_us, row[0].order_id), reverse=True)
    page = found[:limit]
    next_cursor = encode_order_position(page[-1][0]) if len(found) > limit else None
    return json_response(
        MyOrderList(
            orders=[
                order_view_with(order, tickets, refunds) for _, order, tickets, refunds in page
            ],
            next_cursor=next_cursor,
        )
    )
