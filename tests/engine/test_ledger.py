"""The ledger of an order balances, splits its total as priced, and a reversal undoes it."""

from hypothesis import given
from hypothesis import strategies as st

from engine.ledger import Direction, LedgerAccount, reversal, sale_entries, signed_cents
from engine.pricing import price_order


@given(st.integers(min_value=0, max_value=10_000_000))
def test_a_sales_entries_balance_and_split_the_total_as_priced(subtotal_cents: int) -> None:
    price = price_order(subtotal_cents)
    entries = sale_entries(price)

    assert sum(signed_cents(entry) for entry in entries) == 0
    assert all(entry.amount_cents > 0 for entry in entries)
    by_account = {entry.account: signed_cents(entry) for entry in entries}
    assert by_account.get(LedgerAccount.PROCESSOR_RECEIVABLE, 0) == price.total_cents
    assert by_account.get(LedgerAccount.VENUE_BALANCE, 0) == -price.venue_share_cents
    assert by_account.get(LedgerAccount.PLATFORM_FEES, 0) == -price.platform_fee_cents
    assert by_account.get(LedgerAccount.PROCESSING_FEES, 0) == -price.processing_fee_cents


@given(st.integers(min_value=1, max_value=10_000_000))
def test_a_reversal_nets_every_account_to_zero(subtotal_cents: int) -> None:
    entries = sale_entries(price_order(subtotal_cents))
    undone = reversal(entries)

    net: dict[LedgerAccount, int] = {}
    for entry in (*entries, *undone):
        net[entry.account] = net.get(entry.account, 0) + signed_cents(entry)
    assert set(net.values()) == {0}
    assert sum(signed_cents(entry) for entry in undone) == 0


def test_a_free_order_moves_no_money() -> None:
    assert sale_entries(price_order(0)) == ()


def test_the_venue_is_credited_and_the_processor_debited() -> None:
    entries = {entry.account: entry for entry in sale_entries(price_order(10_000))}

    assert entries[LedgerAccount.VENUE_BALANCE].direction is Direction.CREDIT
    assert entries[LedgerAccount.PROCESSOR_RECEIVABLE].direction is Direction.DEBIT
