"""The event's cancellation: what it releases, and which commands a cancelled event still takes.

A cancelled event sells nothing again: every command that would hold, sell, set aside or change
the sale is EVENT_CANCELLED; only what winds the sale down (releasing, expiring, refunding,
leaving the wait list) and the cancellation itself go on. A new command gets its row here.
"""

import typing

from engine.changes import Change, HoldReleased, SaleCancelled
from engine.commands import (
    AddCapacity,
    AddCodes,
    BlockSeats,
    CancelOrder,
    CancelSale,
    ChangeCode,
    ChangePrice,
    ChangeSaleSettings,
    ChangeTicketTypeSales,
    Command,
    ConvertHold,
    ExpireHolds,
    ExtendHold,
    HoldBestAvailable,
    HoldSeats,
    IssueComps,
    JoinWaitList,
    LeaveWaitList,
    PauseSale,
    PlaceHold,
    RefundOrder,
    ReleaseHold,
    ResumeSale,
    ReturnTickets,
    ReturnWithheldUnits,
    UnblockSeats,
    WithholdUnits,
)
from engine.inventory.decision import Decision, reject
from engine.inventory.state import Inventory
from engine.outcomes import Acknowledged
from engine.rejections import Reason, Rejected

TAKEN_AFTER_CANCELLATION: dict[type, bool] = {
    PlaceHold: False,
    HoldSeats: False,
    HoldBestAvailable: False,
    ReleaseHold: True,
    ExpireHolds: True,
    ExtendHold: False,
    ConvertHold: False,
    RefundOrder: True,
    CancelOrder: True,
    ReturnTickets: True,
    IssueComps: False,
    BlockSeats: False,
    UnblockSeats: False,
    WithholdUnits: False,
    ReturnWithheldUnits: False,
    PauseSale: False,
    ResumeSale: False,
    CancelSale: True,
    ChangeSaleSettings: False,
    ChangeTicketTypeSales: False,
    JoinWaitList: False,
    LeaveWaitList: True,
    AddCodes: False,
    ChangeCode: False,
    AddCapacity: False,
    ChangePrice: False,
}
assert set(TAKEN_AFTER_CANCELLATION) == set(typing.get_args(Command)), "every command needs a row"


def refusal_after_cancellation(inventory: Inventory, command: Command) -> Rejected | None:
    """EVENT_CANCELLED for a command a cancelled event no longer takes; None otherwise."""
    if inventory.cancelled and not TAKEN_AFTER_CANCELLATION[type(command)]:
        return reject(Reason.EVENT_CANCELLED, "this event was cancelled")
    return None


def decide_cancel_sale(inventory: Inventory, command: CancelSale) -> Decision:
    """Release every live hold and cancel the sale, in one decision; nothing when cancelled."""
    if inventory.cancelled:
        return Decision(outcome=Acknowledged(), changes=())
    changes: list[Change] = [HoldReleased(hold_id=hold_id) for hold_id in sorted(inventory.holds)]
    changes.append(SaleCancelled(reason=command.reason))
    return Decision(outcome=Acknowledged(), changes=tuple(changes))
