"""The chargeback table, walked over every order in which Stripe's news of a dispute may arrive:
the money is withdrawn once, reinstated or lost once, every posting balances, and the ledger and
the tickets end as the first ending heard says, whatever came before or after it."""

import collections
import itertools

import pytest

from engine.disputes import (
    CLOSED_PHASES,
    DISPUTE_MOVES,
    STAYS,
    DisputePhase,
    DisputePosting,
    dispute_move,
    phase_after,
    posting_entries,
)
from engine.ledger import LedgerAccount, signed_cents
from engine.tickets import TicketAction

AMOUNT_CENTS = 4_250
NEWS_COUNT_MAX = 4


def walk(
    news: tuple[DisputePhase, ...],
) -> tuple[DisputePhase | None, list[TicketAction], dict[LedgerAccount, int]]:
    recorded: DisputePhase | None = None
    actions: list[TicketAction] = []
    balances: dict[LedgerAccount, int] = collections.defaultdict(int)
    for reached in news:
        move = dispute_move(recorded, reached)
        if move.ticket_action is not None:
            actions.append(move.ticket_action)
        for posting in move.postings:
            for entry in posting_entries(posting, AMOUNT_CENTS):
                balances[entry.account] += signed_cents(entry)
        recorded = phase_after(recorded, reached)
    return recorded, actions, {account: net for account, net in balances.items() if net}


SEQUENCES = [
    news
    for count in range(1, NEWS_COUNT_MAX + 1)
    for news in itertools.product(DisputePhase, repeat=count)
]


@pytest.mark.parametrize("news", SEQUENCES)
def test_the_first_ending_heard_decides_whatever_the_order_of_the_news(
    news: tuple[DisputePhase, ...],
) -> None:
    recorded, actions, balances = walk(news)

    endings = [phase for phase in news if phase in CLOSED_PHASES]
    if not endings:
        assert recorded is DisputePhase.OPEN
        assert actions == [TicketAction.LOCK]
        assert balances == {
            LedgerAccount.DISPUTED_FUNDS: AMOUNT_CENTS,
            LedgerAccount.PROCESSOR_RECEIVABLE: -AMOUNT_CENTS,
        }
    elif endings[0] is DisputePhase.WON:
        assert recorded is DisputePhase.WON
        assert balances == {}
        assert actions in ([], [TicketAction.LOCK, TicketAction.UNLOCK])
    else:
        assert recorded is DisputePhase.LOST
        assert balances == {
            LedgerAccount.CHARGEBACK_LOSSES: AMOUNT_CENTS,
            LedgerAccount.PROCESSOR_RECEIVABLE: -AMOUNT_CENTS,
        }
        assert actions[-1] is TicketAction.REVOKE and actions.count(TicketAction.REVOKE) == 1
    assert sum(balances.values()) == 0


@pytest.mark.parametrize("posting", list(DisputePosting))
def test_each_posting_balances_when_given_any_posting(posting: DisputePosting) -> None:
    entries = posting_entries(posting, AMOUNT_CENTS)

    assert sum(signed_cents(entry) for entry in entries) == 0
    assert {entry.amount_cents for entry in entries} == {AMOUNT_CENTS}


@pytest.mark.parametrize("closed", sorted(CLOSED_PHASES))
def test_a_closed_dispute_never_moves_when_any_news_follows(closed: DisputePhase) -> None:
    assert all(move == STAYS for move in DISPUTE_MOVES[closed].values())
    assert all(phase_after(closed, reached) is closed for reached in DisputePhase)
