"""The arithmetic of the checks after a load run: the record the fans leave, and stats that do
or do not add up to what Postgres holds."""

import json

from loadtests.sale_checks import parse_acknowledged, stats_mismatches
from persistence.sales_figures import ORDER_STATUSES, SalesFigures


def record_line(kind: str, identifier: str) -> str:
    return json.dumps({"kind": kind, "id": identifier, "fan": "load-fan-1"})


def test_the_record_sorts_ids_by_what_was_acknowledged_and_counts_server_errors() -> None:
    acknowledged = parse_acknowledged(
        [
            record_line("hold", "h1"),
            record_line("hold", "h2"),
            record_line("order", "o1"),
            record_line("paid", "o1"),
            record_line("server_error", "503"),
            record_line("server_error", "500"),
            "",
        ]
    )

    assert acknowledged.hold_ids == {"h1", "h2"}
    assert acknowledged.order_ids == {"o1"}
    assert acknowledged.paid_order_ids == {"o1"}
    assert (acknowledged.unavailable, acknowledged.server_errors) == (1, 1)


def figures(fulfilled: int = 3, revenue_cents: int = 24_000) -> SalesFigures:
    orders = dict.fromkeys(ORDER_STATUSES, 0) | {"fulfilled": fulfilled}
    return SalesFigures(
        orders_by_status=orders,
        revenue_cents=revenue_cents,
        mints_by_status={"pending": 0, "minted": 3, "failed": 0},
    )


def stats(sold: int = 3, held: int = 1, available: int = 6) -> dict[str, object]:
    by_type = {"key": "RES", "capacity": 10, "sold": sold, "held": held, "available": available}
    return {
        "capacity": 10,
        "sold": sold,
        "held": held,
        "available": available,
        "revenue_cents": 24_000,
        "by_ticket_type": [by_type],
        "orders": dict.fromkeys(ORDER_STATUSES, 0) | {"fulfilled": 3},
    }


def test_stats_that_match_postgres_have_no_mismatch() -> None:
    assert stats_mismatches(stats(), live_tickets=3, figures=figures()) == []


def test_each_way_the_stats_can_disagree_is_named() -> None:
    problems = stats_mismatches(
        stats(available=7), live_tickets=2, figures=figures(fulfilled=4, revenue_cents=1)
    )

    assert problems == [
        "total: sold + held + available != capacity",
        "RES: sold + held + available != capacity",
        "sold 3 != 2 live tickets in Postgres",
        "revenue 24000 != 1 in Postgres",
        "fulfilled orders 3 != 4 in Postgres",
    ]
