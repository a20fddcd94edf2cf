"""A venue giving tickets away: out of what is on sale or out of an allocation, through the event's
InventoryActor, then issued like a paid order's tickets but for nothing.

From what is on sale, the seats or units are first set aside into the allocation the reason draws
on (`engine.comps.COMP_ALLOCATIONS`), then `IssueComps` sells them from it as complimentary; the
engine counts them as sold, at no revenue. If the issue is refused, what was set aside goes back
on sale. Each engine command is keyed from the request's Idempotency-Key, so a retry after a crash
replays the engine's first answers (the same order id) and issues the tickets once.
"""

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

import asyncpg
import msgspec

from engine.commands import (
    BlockSeats,
    Command,
    IssueComps,
    ItemRequest,
    ReturnWithheldUnits,
    UnblockSeats,
    WithholdUnits,
)
from engine.comps import COMP_ALLOCATIONS, CompReason
from engine.outcomes import Outcome, SaleView
from engine.rejections import Rejected
from notifications.notices import Notice, NoticeKind, NoticeTicket, encode_notice, notice_topic
from payments.announcements import ticket_mint_requests
from persistence.comp_orders import record_comp_order
from persistence.event_details import EventDetails
from persistence.fulfilment import EventNames, IssuedTicket, load_event_names
from persistence.located_ids import mint_located_id
from persistence.orders import OutboxEntry, write_outbox
from persistence.tenancy import tenant_transaction
from persistence.tickets import TicketRecord, load_order_tickets
from services.refusals import CompsMisstated, EngineRefused

Execute = Callable[[Command], Awaitable[Outcome | Rejected]]


class CompItem(msgspec.Struct, frozen=True, kw_only=True):
    ticket_type_id: str
    quantity: int


class CompRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the venue gives and why: general quantities (`items`) or named seats (`seats`),
    exactly one, from what is on sale or from the allocation the reason draws on."""

    reason: CompReason
    items: tuple[CompItem, ...] | None
    seats: tuple[str, ...] | None
    source: Literal["on_sale", "set_aside"]
    email: str | None
    note: str | None


class CompsIssued(msgspec.Struct, frozen=True, kw_only=True):
    """The comp order's id and its tickets, as Postgres has them."""

    order_id: uuid.UUID
    tickets: list[TicketRecord]


def comp_engine_key(caller: str, key: str | None, step: str) -> str | None:
    """One engine key per step of one request: the caller's key, scoped to the caller."""
    if key is None:
        return None
    return hashlib.sha256(f"{caller}\ncomps\n{key}\n{step}".encode()).hexdigest()


def set_aside_commands(
    request: CompRequest, caller: str, key: str | None
) -> tuple[list[Command], list[Command]]:
    """The commands that set the comps aside from what is on sale, and those that undo them."""
    allocation = COMP_ALLOCATIONS[request.reason]
    if request.seats is not None:
        seats = tuple(request.seats)
        return (
            [
                BlockSeats(
                    seats=seats,
                    withholding=allocation,
                    idempotency_key=comp_engine_key(caller, key, "set-aside"),
                )
            ],
            [UnblockSeats(seats=seats, idempotency_key=comp_engine_key(caller, key, "undo"))],
        )
    assert request.items is not None
    return (
        [
            WithholdUnits(
                ticket_type_id=item.ticket_type_id,
                quantity=item.quantity,
                withholding=allocation,
                idempotency_key=comp_engine_key(caller, key, f"set-aside-{item.ticket_type_id}"),
            )
            for item in request.items
        ],
        [
            ReturnWithheldUnits(
                ticket_type_id=item.ticket_type_id,
                quantity=item.quantity,
                withholding=allocation,
                idempotency_key=comp_engine_key(caller, key, f"undo-{item.ticket_type_id}"),
            )
            for item in request.items
        ],
    )


async def sell_comps(
    execute: Execute,
    *,
    details: EventDetails,
    request: CompRequest,
    caller: str,
    recipient_id: str,
    key: str | None,
) -> SaleView:
    """The complimentary sale as the engine recorded it; EngineRefused with the engine's "no"."""
    if (request.items is None) == (request.seats is None):
        raise CompsMisstated
    undo: list[Command] = []
    if request.source == "on_sale":
        set_aside, undo = set_aside_commands(request, caller, key)
        for done, command in enumerate(set_aside):
            result = await execute(command)
            if isinstance(result, Rejected):
                await _undo(execute, undo[:done])
                raise EngineRefused(result)
    issued = await execute(
        IssueComps(
            new_order_id=mint_located_id(details.location.event_number),
            fan_id=recipient_id,
            allocation=COMP_ALLOCATIONS[request.reason],
            seats=tuple(request.seats or ()),
            items=tuple(
                ItemRequest(ticket_type_id=item.ticket_type_id, quantity=item.quantity)
                for item in request.items or ()
            ),
            idempotency_key=comp_engine_key(caller, key, "issue"),
        )
    )
    if isinstance(issued, Rejected):
        await _undo(execute, undo)
        raise EngineRefused(issued)
    assert isinstance(issued, SaleView), issued
    return issued


async def _undo(execute: Execute, commands: list[Command]) -> None:
    """Put back on sale what this request set aside; a refusal here leaves it withheld, which the
    venue's stats show."""
    for command in commands:
        await execute(command)


def comp_announcements(
    *,
    details: EventDetails,
    order_id: uuid.UUID,
    recipient_id: str,
    email: str | None,
    names: EventNames,
    tickets: list[IssuedTicket],
) -> list[OutboxEntry]:
    """A mint per ticket, and the order's confirmation when the venue gave an address."""
    tenant_id, event_id = details.location.tenant_id, details.location.event_id
    entries = ticket_mint_requests(
        tenant_id=tenant_id,
        event_id=event_id,
        order_id=order_id,
        owner_user_id=recipient_id,
        names=names,
        tickets=tickets,
    )
    if email is not None:
        notice = Notice(
            kind=NoticeKind.ORDER_CONFIRMED,
            tenant_id=tenant_id,
            event_id=event_id,
            event_name=names.event_name,
            order_id=order_id,
            user_id=recipient_id,
            email=email,
            total_cents=0,
            currency=details.currency,
            tickets=tuple(
                NoticeTicket(
                    ticket_id=ticket.ticket_id,
                    ticket_type_name=names.ticket_type_names[ticket.ticket_type_id],
                    seat=ticket.seat,
                )
                for ticket in tickets
            ),
        )
        entries.append(
            OutboxEntry(
                topic=notice_topic(NoticeKind.ORDER_CONFIRMED),
                aggregate_id=str(order_id),
                payload=encode_notice(notice),
            )
        )
    return entries


async def issue_comps(
    pool: asyncpg.Pool,
    execute: Execute,
    *,
    details: EventDetails,
    request: CompRequest,
    caller: str,
    recipient_id: str,
    key: str | None,
) -> CompsIssued:
    """The comps sold by the engine, then recorded as a complimentary order with its tickets,
    mints and confirmation, once however often the request is retried under its key."""
    sale = await sell_comps(
        execute, details=details, request=request, caller=caller, recipient_id=recipient_id, key=key
    )
    order_id = uuid.UUID(sale.order_id)
    event_number = details.location.event_number
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        tickets = await record_comp_order(
            connection,
            order_id=order_id,
            event_id=details.location.event_id,
            owner_user_id=sale.fan_id,
            currency=details.currency,
            contact_email=request.email,
            reason=request.reason,
            items=sale.items,
            seats=sale.seats,
            given_by=caller,
            note=request.note,
            new_ticket_id=lambda: uuid.UUID(mint_located_id(event_number)),
        )
        if tickets is not None:
            names = await load_event_names(connection, details.location.event_id)
            await write_outbox(
                connection,
                comp_announcements(
                    details=details,
                    order_id=order_id,
                    recipient_id=sale.fan_id,
                    email=request.email,
                    names=names,
                    tickets=tickets,
                ),
            )
        records = await load_order_tickets(connection, order_id)
    return CompsIssued(order_id=order_id, tickets=records)
