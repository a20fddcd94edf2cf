"""A chargeback's life as one table: what each phase a Stripe dispute reaches does to the order's
tickets and ledger, from the phase we last recorded (none for a dispute we have not heard of).

Stripe's statuses fold into three phases: open (the money is withdrawn while the bank decides),
won (it is reinstated) and lost (it is gone). Its events may arrive twice or out of order, so a
move is decided from what is recorded, never from the event's name: a closed dispute heard of
first posts the withdrawal with its ending, and nothing moves a dispute once it is closed.
Change the table, never the callers: the import-time assertions and the tests walk it.
"""

import enum

import msgspec

from engine.ledger import Direction, LedgerAccount, LedgerEntry, signed_cents
from engine.tickets import TicketAction


class DisputePhase(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class DisputePosting(enum.StrEnum):
    """One balanced ledger transaction a dispute's move records."""

    WITHDRAWN = "withdrawn"
    REINSTATED = "reinstated"
    LOST = "lost"


class DisputeMove(msgspec.Struct, frozen=True, kw_only=True):
    """What moving a dispute into a phase does: the tickets' move, if any, and the postings."""

    ticket_action: TicketAction | None
    postings: tuple[DisputePosting, ...]


# Stripe's dispute statuses; an inquiry (`warning_*`) closed without a chargeback counts as won.
PHASE_OF_STRIPE_STATUS: dict[str, DisputePhase] = {
    "warning_needs_response": DisputePhase.OPEN,
    "warning_under_review": DisputePhase.OPEN,
    "needs_response": DisputePhase.OPEN,
    "under_review": DisputePhase.OPEN,
    "warning_closed": DisputePhase.WON,
    "won": DisputePhase.WON,
    "lost": DisputePhase.LOST,
}

CLOSED_PHASES = frozenset({DisputePhase.WON, DisputePhase.LOST})
STAYS = DisputeMove(ticket_action=None, postings=())

DISPUTE_MOVES: dict[DisputePhase | None, dict[DisputePhase, DisputeMove]] = {
    None: {
        DisputePhase.OPEN: DisputeMove(
            ticket_action=TicketAction.LOCK, postings=(DisputePosting.WITHDRAWN,)
        ),
        DisputePhase.WON: DisputeMove(
            ticket_action=None, postings=(DisputePosting.WITHDRAWN, DisputePosting.REINSTATED)
        ),
        DisputePhase.LOST: DisputeMove(
            ticket_action=TicketAction.REVOKE,
            postings=(DisputePosting.WITHDRAWN, DisputePosting.LOST),
        ),
    },
    DisputePhase.OPEN: {
        DisputePhase.OPEN: STAYS,
        DisputePhase.WON: DisputeMove(
            ticket_action=TicketAction.UNLOCK, postings=(DisputePosting.REINSTATED,)
        ),
        DisputePhase.LOST: DisputeMove(
            ticket_action=TicketAction.REVOKE, postings=(DisputePosting.LOST,)
        ),
    },
    DisputePhase.WON: {phase: STAYS for phase in DisputePhase},
    DisputePhase.LOST: {phase: STAYS for phase in DisputePhase},
}

assert set(DISPUTE_MOVES) == {None, *DisputePhase}, "every recorded phase has a row"
assert all(set(moves) == set(DisputePhase) for moves in DISPUTE_MOVES.values()), (
    "every row says what each phase does"
)
assert all(
    DISPUTE_MOVES[closed][phase] == STAYS for closed in CLOSED_PHASES for phase in DisputePhase
), "a closed dispute never moves again"
assert set(PHASE_OF_STRIPE_STATUS.values()) == set(DisputePhase), "every phase is reachable"


def dispute_move(recorded: DisputePhase | None, reached: DisputePhase) -> DisputeMove:
    return DISPUTE_MOVES[recorded][reached]


def phase_after(recorded: DisputePhase | None, reached: DisputePhase) -> DisputePhase:
    """The phase to record: a closed dispute keeps its ending."""
    return recorded if recorded in CLOSED_PHASES else reached


POSTING_ACCOUNTS: dict[DisputePosting, tuple[LedgerAccount, LedgerAccount]] = {
    # (debited, credited)
    DisputePosting.WITHDRAWN: (LedgerAccount.DISPUTED_FUNDS, LedgerAccount.PROCESSOR_RECEIVABLE),
    DisputePosting.REINSTATED: (LedgerAccount.PROCESSOR_RECEIVABLE, LedgerAccount.DISPUTED_FUNDS),
    DisputePosting.LOST: (LedgerAccount.CHARGEBACK_LOSSES, LedgerAccount.DISPUTED_FUNDS),
}
assert set(POSTING_ACCOUNTS) == set(DisputePosting), "every posting names its accounts"


def posting_entries(posting: DisputePosting, amount_cents: int) -> tuple[LedgerEntry, ...]:
    """The balanced entries of one posting of the disputed amount."""
    assert amount_cents > 0, "a dispute moves money"
    debited, credited = POSTING_ACCOUNTS[posting]
    entries = (
        LedgerEntry(account=debited, direction=Direction.DEBIT, amount_cents=amount_cents),
        LedgerEntry(account=credited, direction=Direction.CREDIT, amount_cents=amount_cents),
    )
    assert sum(signed_cents(entry) for entry in entries) == 0, "a posting balances"
    return entries
