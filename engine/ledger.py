"""The double-entry record of an order's money, computed once from its price.

A paid order owes its total from the card processor (debit) and splits it between the venue's
balance (the subtotal: the venue's share of a primary sale), the platform's fee and the processing
fee the processor keeps (credits). The entries of one order sum to zero, and a refund posts the
same entries reversed, so a refunded order nets to zero on every account. Zero amounts are left
out: a ledger line always moves money.
"""

import enum

import msgspec

from engine.pricing import Price


class LedgerAccount(enum.StrEnum):
    PROCESSOR_RECEIVABLE = "processor_receivable"
    VENUE_BALANCE = "venue_balance"
    PLATFORM_FEES = "platform_fees"
    PROCESSING_FEES = "processing_fees"
    # Money the processor has taken back while a chargeback is open, and what a lost one cost.
    DISPUTED_FUNDS = "disputed_funds"
    CHARGEBACK_LOSSES = "chargeback_losses"


class Direction(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class LedgerEntry(msgspec.Struct, frozen=True, kw_only=True):
    account: LedgerAccount
    direction: Direction
    amount_cents: int


def signed_cents(entry: LedgerEntry) -> int:
    """Debits count up, credits down: a balanced set of entries sums to zero."""
    return entry.amount_cents if entry.direction is Direction.DEBIT else -entry.amount_cents


def sale_entries(price: Price) -> tuple[LedgerEntry, ...]:
    return money_in_entries(
        total_cents=price.total_cents,
        venue_cents=price.venue_share_cents,
        platform_fee_cents=price.platform_fee_cents,
        processing_fee_cents=price.processing_fee_cents,
    )


def money_in_entries(
    *, total_cents: int, venue_cents: int, platform_fee_cents: int, processing_fee_cents: int
) -> tuple[LedgerEntry, ...]:
    """Money taken from the processor, split between the venue and the two fees; a refund is the
    reversal of this shape for the part given back."""
    entries = (
        LedgerEntry(
            account=LedgerAccount.PROCESSOR_RECEIVABLE,
            direction=Direction.DEBIT,
            amount_cents=total_cents,
        ),
        LedgerEntry(
            account=LedgerAccount.VENUE_BALANCE,
            direction=Direction.CREDIT,
            amount_cents=venue_cents,
        ),
        LedgerEntry(
            account=LedgerAccount.PLATFORM_FEES,
            direction=Direction.CREDIT,
            amount_cents=platform_fee_cents,
        ),
        LedgerEntry(
            account=LedgerAccount.PROCESSING_FEES,
            direction=Direction.CREDIT,
            amount_cents=processing_fee_cents,
        ),
    )
    kept = tuple(entry for entry in entries if entry.amount_cents > 0)
    assert sum(signed_cents(entry) for entry in kept) == 0, "the entries balance"
    return kept


def reversal(entries: tuple[LedgerEntry, ...]) -> tuple[LedgerEntry, ...]:
    """The entries that undo `entries`: each account moved back by the same amount."""
    return tuple(
        msgspec.structs.replace(
            entry,
            direction=Direction.CREDIT if entry.direction is Direction.DEBIT else Direction.DEBIT,
        )
        for entry in entries
    )
