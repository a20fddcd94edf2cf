"""A fan giving a ticket to another fan, in one transaction of the event's tenant: the rules of
engine/transfers.py checked on the locked ticket, the ticket given (persistence/ticket_transfers),
and the outbox messages that move its NFT on chain and tell the recipient.

A ticket whose NFT is not minted yet is given like any other: the NFT's move is queued under the
aggregate its mint was queued under, so it waits for the mint and for any earlier move of the same
NFT, and it brings the NFT to whoever holds the ticket then.
"""

import uuid

import asyncpg
import msgspec

from engine import limits
from engine.tickets import TicketAction, TicketMoved, TicketStatus, move_ticket
from engine.transfers import TransferCase, check_transfer
from minting.transfer_requests import TRANSFER_TOPIC, TransferRequest
from notifications.notices import Notice, NoticeKind, NoticeTicket, encode_notice, notice_topic
from persistence.event_details import EventDetails
from persistence.fulfilment import load_event_names
from persistence.located_ids import mint_located_id
from persistence.orders import OutboxEntry, write_outbox
from persistence.tenancy import tenant_transaction
from persistence.ticket_claims import has_pending_claim
from persistence.ticket_transfers import (
    TransferSubject,
    count_transfers_since,
    find_contact_email,
    give_ticket,
    lock_transfer_subject,
)
from persistence.tickets import TicketRecord, load_ticket
from services.refusals import NothingFound, TransferRefused


def transfer_case(
    subject: TransferSubject, *, recipient_id: str, transfers_in_window: int
) -> TransferCase:
    return TransferCase(
        giver_id=subject.owner_user_id,
        recipient_id=recipient_id,
        status=TicketStatus(subject.status),
        transfers_allowed=subject.transfers_allowed,
        changed_hands_at_ms=subject.changed_hands_at_ms,
        transfers_in_window=transfers_in_window,
        nft_in_own_wallet=subject.registered_address is not None
        and subject.nft_owner_address == subject.registered_address,
    )


def announcements(
    *,
    details: EventDetails,
    subject: TransferSubject,
    transfer_id: uuid.UUID,
    given: TicketRecord,
    event_name: str,
    ticket_type_name: str,
    recipient_email: str | None,
) -> list[OutboxEntry]:
    """The NFT's move, and the notice of the transfer to its recipient and its venue."""
    tenant_id = details.location.tenant_id
    request = TransferRequest(
        transfer_id=transfer_id,
        tenant_id=tenant_id,
        event_id=details.location.event_id,
        nft_ticket_id=subject.nft_ticket_id,
    )
    notice = Notice(
        kind=NoticeKind.TICKET_TRANSFERRED,
        tenant_id=tenant_id,
        event_id=details.location.event_id,
        event_name=event_name,
        order_id=given.order_id,
        user_id=subject.owner_user_id,
        email=recipient_email,
        total_cents=0,
        currency=details.currency,
        tickets=(
            NoticeTicket(
                ticket_id=given.ticket_id, ticket_type_name=ticket_type_name, seat=given.seat
            ),
        ),
        to_user_id=given.owner_user_id,
    )
    return [
        OutboxEntry(
            topic=TRANSFER_TOPIC,
            aggregate_id=str(subject.nft_ticket_id),
            payload=msgspec.json.encode(request).decode(),
        ),
        OutboxEntry(
            topic=notice_topic(NoticeKind.TICKET_TRANSFERRED),
            aggregate_id=str(given.ticket_id),
            payload=encode_notice(notice),
        ),
    ]


async def hand_over(
    connection: asyncpg.Connection,
    *,
    details: EventDetails,
    subject: TransferSubject,
    recipient_id: str,
    recipient_email: str | None,
) -> TicketRecord:
    """Give the locked `subject`, which the rules let go, to `recipient_id` in the open
    transaction: the old ticket (and its code) ends, the recipient's is issued, and its NFT's move
    and the recipient's notice are queued. The recipient's new ticket is returned."""
    new_ticket_id = uuid.UUID(mint_located_id(details.location.event_number))
    moved = move_ticket(TicketStatus(subject.status), TicketAction.TRANSFER)
    assert isinstance(moved, TicketMoved), "check_transfer admits only what may transfer"
    transfer_id = await give_ticket(
        connection,
        subject=subject,
        moved=moved,
        recipient_id=recipient_id,
        new_ticket_id=new_ticket_id,
    )
    given = await load_ticket(connection, new_ticket_id)
    assert given is not None, "the recipient's ticket was issued in this transaction"
    names = await load_event_names(connection, details.location.event_id)
    await write_outbox(
        connection,
        announcements(
            details=details,
            subject=subject,
            transfer_id=transfer_id,
            given=given,
            event_name=names.event_name,
            ticket_type_name=names.ticket_type_names[given.ticket_type_id],
            recipient_email=recipient_email,
        ),
    )
    return given


async def transfer_ticket(
    pool: asyncpg.Pool,
    *,
    details: EventDetails,
    ticket_id: uuid.UUID,
    giver_id: str,
    recipient_id: str,
    now_ms: int,
) -> TicketRecord:
    """The recipient's new ticket. NothingFound unless the giver owns the ticket;
    TransferRefused, naming the rule, when a rule forbids it now."""
    window_start_ms = now_ms - limits.TRANSFER_LIMIT_WINDOW_MS
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        subject = await lock_transfer_subject(connection, ticket_id)
        if subject is None or subject.owner_user_id != giver_id:
            raise NothingFound("ticket")
        transfers_in_window = await count_transfers_since(
            connection, giver_id=giver_id, since_ms=window_start_ms
        )
        case = transfer_case(
            subject, recipient_id=recipient_id, transfers_in_window=transfers_in_window
        )
        claim_pending = await has_pending_claim(connection, ticket_id=ticket_id, now_ms=now_ms)
        refusal = check_transfer(msgspec.structs.replace(case, claim_pending=claim_pending), now_ms)
        if refusal is not None:
            raise TransferRefused(refusal, ticket_status=subject.status)
        return await hand_over(
            connection,
            details=details,
            subject=subject,
            recipient_id=recipient_id,
            recipient_email=await find_contact_email(
                connection, event_id=details.location.event_id, user_id=recipient_id
            ),
        )
