"""The bodies of the service desk (API.md v1.1) and of a fan's order listing, as msgspec Structs:
a page of orders, an order's history and the answer to a resend.

An order is shown as `GET /v1/orders/{id}` shows it; the desk's listing adds where its notices
go (`email`; `created_at` is in every order already).
"""

from typing import Any

from gateway.order_schemas import OrderView
from gateway.schemas import Request, Response


class DeskOrderView(OrderView):
    email: str | None


class DeskOrderList(Response):
    """A page of the tenant's orders that match, newest first; `next_cursor` is null on the last
    page."""

    orders: list[DeskOrderView]
    next_cursor: str | None


class MyOrderList(Response):
    """A page of the caller's orders across events, newest first."""

    orders: list[OrderView]
    next_cursor: str | None


class HistoryEntryView(Response):
    at: str
    kind: str
    actor: str
    details: dict[str, Any]


class OrderHistoryView(Response):
    order_id: str
    history: list[HistoryEntryView]


class ResendBody(Request):
    """A resend takes no fields; an empty body or `{}`."""


class ResendView(Response):
    order_id: str
    resend_id: str
    email: str
