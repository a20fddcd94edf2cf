"""`decide(inventory, command, now_ms)`: the changes a command makes, or why not, changing nothing.

A command under an idempotency key answers its recorded outcome again; one rejected under a key
records nothing, so its retry is decided afresh. A new command gets a case in `_decide_fresh`.
"""

from typing import assert_never

from engine import limits
from engine.changes import Change, IdempotencyKeyRecorded, SalePaused, SaleResumed
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
    fingerprint,
)
from engine.inventory.cancellation import decide_cancel_sale, refusal_after_cancellation
from engine.inventory.code_decisions import decide_add_codes, decide_change_code
from engine.inventory.decision import Decision, reject
from engine.inventory.hold_decisions import (
    decide_convert_hold,
    decide_expire_holds,
    decide_extend_hold,
    decide_hold_best_available,
    decide_hold_seats,
    decide_place_hold,
    decide_release_hold,
)
from engine.inventory.state import Inventory
from engine.inventory.stock_decisions import decide_add_capacity, decide_change_price
from engine.inventory.ticket_type_decisions import decide_change_ticket_type_sales
from engine.inventory.venue_decisions import (
    decide_block_seats,
    decide_change_sale_settings,
    decide_issue_comps,
    decide_return_order,
    decide_return_tickets,
    decide_return_withheld_units,
    decide_unblock_seats,
    decide_withhold_units,
)
from engine.inventory.wait_list_decisions import decide_join_wait_list, decide_leave_wait_list
from engine.outcomes import Acknowledged, IdempotencyRecord
from engine.rejections import Reason, Rejected


def decide(inventory: Inventory, command: Command, now_ms: int) -> Decision | Rejected:
    key = getattr(command, "idempotency_key", None)
    if key is None:
        return _decide_fresh(inventory, command, now_ms)
    if not (1 <= len(key) <= limits.IDEMPOTENCY_KEY_CHARACTERS_MAX and key.isprintable()):
        return reject(
            Reason.VALIDATION_ERROR, "the idempotency key must be 1-255 printable characters"
        )
    command_fingerprint = fingerprint(command)
    record = inventory.idempotency_records.get(key)
    if record is not None:
        if record.fingerprint != command_fingerprint:
            return reject(
                Reason.IDEMPOTENCY_CONFLICT, "this idempotency key was used for another request"
            )
        return Decision(outcome=record.outcome, changes=())
    decision = _decide_fresh(inventory, command, now_ms)
    if isinstance(decision, Rejected):
        return decision
    record = IdempotencyRecord(
        key=key, fingerprint=command_fingerprint, outcome=decision.outcome, recorded_at_ms=now_ms
    )
    return Decision(
        outcome=decision.outcome,
        changes=(*decision.changes, IdempotencyKeyRecorded(record=record)),
    )


def _decide_fresh(inventory: Inventory, command: Command, now_ms: int) -> Decision | Rejected:
    refusal = refusal_after_cancellation(inventory, command)
    if refusal is not None:
        return refusal
    match command:
        case PlaceHold():
            return decide_place_hold(inventory, command, now_ms)
        case HoldSeats():
            return decide_hold_seats(inventory, command, now_ms)
        case HoldBestAvailable():
            return decide_hold_best_available(inventory, command, now_ms)
        case ReleaseHold():
            return decide_release_hold(inventory, command, now_ms)
        case ExpireHolds():
            return decide_expire_holds(inventory, now_ms)
        case ExtendHold():
            return decide_extend_hold(inventory, command, now_ms)
        case ConvertHold():
            return decide_convert_hold(inventory, command, now_ms)
        case RefundOrder() | CancelOrder():
            return decide_return_order(inventory, command)
        case ReturnTickets():
            return decide_return_tickets(inventory, command)
        case IssueComps():
            return decide_issue_comps(inventory, command)
        case BlockSeats():
            return decide_block_seats(inventory, command)
        case UnblockSeats():
            return decide_unblock_seats(inventory, command)
        case WithholdUnits():
            return decide_withhold_units(inventory, command)
        case ReturnWithheldUnits():
            return decide_return_withheld_units(inventory, command)
        case AddCapacity():
            return decide_add_capacity(inventory, command)
        case ChangePrice():
            return decide_change_price(inventory, command)
        case PauseSale():
            changes: tuple[Change, ...] = () if inventory.paused else (SalePaused(),)
            return Decision(outcome=Acknowledged(), changes=changes)
        case ResumeSale():
            changes = (SaleResumed(),) if inventory.paused else ()
            return Decision(outcome=Acknowledged(), changes=changes)
        case CancelSale():
            return decide_cancel_sale(inventory, command)
        case ChangeSaleSettings():
            return decide_change_sale_settings(inventory, command)
        case ChangeTicketTypeSales():
            return decide_change_ticket_type_sales(inventory, command)
        case JoinWaitList():
            return decide_join_wait_list(inventory, command)
        case LeaveWaitList():
            return decide_leave_wait_list(inventory, command)
        case AddCodes():
            return decide_add_codes(inventory, command)
        case ChangeCode():
            return decide_change_code(inventory, command)
        case _:
            assert_never(command)
