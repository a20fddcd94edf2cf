"""Tickets offered by email: a fan's transfer or a venue's comp waits, as a claim, for whoever
signs in with the emailed token, and then moves exactly as a transfer to a user id does
(services/transfers.py: the old ticket and its code end, the NFT follows through the outbox).

A token is `cl1.<claim id>.<secret>`: the claim id carries its event's number (a located id), so
the token leads to the event's tenant; the secret (32 random bytes, base64url) proves it, and
only its sha256 is stored, compared in constant time. The ticket stays its giver's until the
claim is accepted, and while it is pending the ticket is neither transferred nor offered again.
Every step locks the claim's row, so a claim accepted twice, even at once, moves its ticket once.
A comp is the venue's gift: only the ticket's status is checked, not the rules between fans.
"""

import enum
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from engine import limits
from engine.ticket_qr import decode_base64url, encode_base64url
from engine.tickets import TicketStatus
from engine.transfers import TransferCase, check_transfer
from notifications.notices import Notice, NoticeKind, NoticeTicket, encode_notice, notice_topic
from persistence.event_details import EventDetails
from persistence.fulfilment import load_event_names
from persistence.located_ids import mint_located_id
from persistence.orders import OutboxEntry, write_outbox
from persistence.tenancy import tenant_transaction
from persistence.ticket_claims import (
    ClaimRecord,
    end_claim,
    has_pending_claim,
    insert_claim,
    load_pending_claim,
    lock_claim,
)
from persistence.ticket_transfers import (
    TransferSubject,
    count_transfers_since,
    lock_transfer_subject,
)
from persistence.tickets import TicketRecord, load_ticket
from services.refusals import ClaimNotPending, NothingFound, TransferRefused
from services.transfers import hand_over, transfer_case

TOKEN_PREFIX = "cl1."
SECRET_BYTES = 32
UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TOKEN_PATTERN = re.compile(rf"cl1\.({UUID_TEXT})\.([A-Za-z0-9_-]{{43}})")
PENDING = "pending"


class ClaimKind(enum.StrEnum):
    TRANSFER = "transfer"
    COMP = "comp"


class ClaimToken(msgspec.Struct, frozen=True, kw_only=True):
    claim_id: uuid.UUID
    secret: bytes


class OfferedClaim(msgspec.Struct, frozen=True, kw_only=True):
    """A claim as its giver sees it; the token goes to the recipient's email only."""

    claim: ClaimRecord
    token: str | None


def read_claim_token(text: str) -> ClaimToken | None:
    """The claim id and secret of a well-formed token; None for anything else."""
    match = TOKEN_PATTERN.fullmatch(text)
    if match is None:
        return None
    secret = decode_base64url(match.group(2))
    if secret is None or len(secret) != SECRET_BYTES:
        return None
    return ClaimToken(claim_id=uuid.UUID(match.group(1)), secret=secret)


def secret_hash(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


def claim_case(
    subject: TransferSubject,
    *,
    kind: ClaimKind,
    recipient_id: str,
    transfers_in_window: int,
    claim_pending: bool,
) -> TransferCase:
    """The rules a claim's ticket must pass: all of a fan's transfer, or only the status and
    the pending claim for the venue's comp."""
    if kind is ClaimKind.TRANSFER:
        case = transfer_case(
            subject, recipient_id=recipient_id, transfers_in_window=transfers_in_window
        )
        return msgspec.structs.replace(case, claim_pending=claim_pending)
    return TransferCase(
        giver_id=subject.owner_user_id,
        recipient_id=recipient_id,
        status=TicketStatus(subject.status),
        transfers_allowed=True,
        changed_hands_at_ms=None,
        transfers_in_window=0,
        claim_pending=claim_pending,
    )


async def checked_subject(
    connection: asyncpg.Connection,
    *,
    ticket_id: uuid.UUID,
    giver_id: str,
    kind: ClaimKind,
    recipient_id: str,
    claim_pending: bool | None,
    now_ms: int,
) -> TransferSubject:
    """The giver's locked ticket, once the rules let it go to `recipient_id`; a None
    `claim_pending` is read from the ticket's claims."""
    subject = await lock_transfer_subject(connection, ticket_id)
    if subject is None or subject.owner_user_id != giver_id:
        raise NothingFound("ticket")
    if claim_pending is None:
        claim_pending = await has_pending_claim(connection, ticket_id=ticket_id, now_ms=now_ms)
    transfers_in_window = await count_transfers_since(
        connection, giver_id=giver_id, since_ms=now_ms - limits.TRANSFER_LIMIT_WINDOW_MS
    )
    case = claim_case(
        subject,
        kind=kind,
        recipient_id=recipient_id,
        transfers_in_window=transfers_in_window,
        claim_pending=claim_pending,
    )
    refusal = check_transfer(case, now_ms)
    if refusal is not None:
        raise TransferRefused(refusal, ticket_status=subject.status)
    return subject


async def offer_notice(
    connection: asyncpg.Connection,
    *,
    details: EventDetails,
    claim: ClaimRecord,
    token: str,
) -> OutboxEntry:
    """The email that carries the token to the claim's address."""
    ticket = await load_ticket(connection, claim.ticket_id)
    assert ticket is not None, "a claim names a ticket of its tenant"
    names = await load_event_names(connection, details.location.event_id)
    notice = Notice(
        kind=NoticeKind.TICKET_CLAIM_OFFERED,
        tenant_id=details.location.tenant_id,
        event_id=details.location.event_id,
        event_name=names.event_name,
        order_id=ticket.order_id,
        user_id=claim.giver_user_id,
        email=claim.to_email,
        total_cents=0,
        currency=details.currency,
        tickets=(
            NoticeTicket(
                ticket_id=ticket.ticket_id,
                ticket_type_name=names.ticket_type_names[ticket.ticket_type_id],
                seat=ticket.seat,
            ),
        ),
        offer_expires_at_ms=claim.expires_at_ms,
        claim_id=claim.claim_id,
        claim_token=token,
    )
    return OutboxEntry(
        topic=notice_topic(NoticeKind.TICKET_CLAIM_OFFERED),
        aggregate_id=str(claim.ticket_id),
        payload=encode_notice(notice),
    )


async def offer_claim(
    connection: asyncpg.Connection,
    *,
    details: EventDetails,
    ticket_id: uuid.UUID,
    giver_id: str,
    to_email: str,
    kind: ClaimKind,
    now_ms: int,
) -> OfferedClaim:
    """Offer the giver's ticket to `to_email` in the open transaction: a pending claim, and its
    email in the outbox. The ticket does not move."""
    await checked_subject(
        connection,
        ticket_id=ticket_id,
        giver_id=giver_id,
        kind=kind,
        recipient_id=f"email:{to_email}",
        claim_pending=None,
        now_ms=now_ms,
    )
    secret = secrets.token_bytes(SECRET_BYTES)
    claim_id = uuid.UUID(mint_located_id(details.location.event_number))
    claim = await insert_claim(
        connection,
        claim_id=claim_id,
        event_id=details.location.event_id,
        ticket_id=ticket_id,
        kind=kind.value,
        giver_user_id=giver_id,
        to_email=to_email,
        secret_hash=secret_hash(secret),
        expires_at_ms=now_ms + limits.CLAIM_TTL_MS,
        now_ms=now_ms,
    )
    token = f"{TOKEN_PREFIX}{claim_id}.{encode_base64url(secret)}"
    await write_outbox(
        connection, [await offer_notice(connection, details=details, claim=claim, token=token)]
    )
    return OfferedClaim(claim=claim, token=token)


async def offer_ticket(
    pool: asyncpg.Pool,
    *,
    details: EventDetails,
    ticket_id: uuid.UUID,
    giver_id: str,
    to_email: str,
    now_ms: int,
) -> ClaimRecord:
    """A fan's ticket offered by email. NothingFound unless the giver owns it; TransferRefused
    when a rule forbids giving it now (a pending claim among them)."""
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        offered = await offer_claim(
            connection,
            details=details,
            ticket_id=ticket_id,
            giver_id=giver_id,
            to_email=to_email,
            kind=ClaimKind.TRANSFER,
            now_ms=now_ms,
        )
    return offered.claim


async def offer_comp_tickets(
    pool: asyncpg.Pool,
    *,
    details: EventDetails,
    ticket_ids: Sequence[uuid.UUID],
    giver_id: str,
    to_email: str,
    now_ms: int,
) -> list[ClaimRecord]:
    """The venue's comp tickets, issued to the giver, offered by email, one claim each. A ticket
    already offered (a retry of the same request) keeps its claim and is not emailed again."""
    claims: list[ClaimRecord] = []
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        for ticket_id in ticket_ids:
            pending = await load_pending_claim(connection, ticket_id)
            if pending is not None and pending.giver_user_id == giver_id:
                claims.append(pending)
                continue
            offered = await offer_claim(
                connection,
                details=details,
                ticket_id=ticket_id,
                giver_id=giver_id,
                to_email=to_email,
                kind=ClaimKind.COMP,
                now_ms=now_ms,
            )
            claims.append(offered.claim)
    return claims


async def pending_claim(
    connection: asyncpg.Connection, claim_id: uuid.UUID, now_ms: int
) -> ClaimRecord | None:
    """The locked claim; ClaimNotPending when it has ended or lapsed."""
    claim = await lock_claim(connection, claim_id)
    if claim is None:
        return None
    if claim.status != PENDING:
        raise ClaimNotPending(claim_status=claim.status)
    if claim.expires_at_ms <= now_ms:
        raise ClaimNotPending(claim_status="expired")
    return claim


async def accept_claim(
    pool: asyncpg.Pool,
    *,
    details: EventDetails,
    token: ClaimToken,
    taker_id: str,
    now_ms: int,
) -> TicketRecord:
    """The taker's new ticket. NothingFound when the token names no claim; ClaimNotPending when
    the claim was accepted, cancelled or has expired; TransferRefused when the ticket may no
    longer go (it was used, locked or refunded meanwhile, or the taker is its giver)."""
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        claim = await lock_claim(connection, token.claim_id)
        if claim is None or not hmac.compare_digest(claim.secret_hash, secret_hash(token.secret)):
            raise NothingFound("claim")
        claim = await pending_claim(connection, token.claim_id, now_ms)
        assert claim is not None, "the claim is locked"
        subject = await checked_subject(
            connection,
            ticket_id=claim.ticket_id,
            giver_id=claim.giver_user_id,
            kind=ClaimKind(claim.kind),
            recipient_id=taker_id,
            claim_pending=False,
            now_ms=now_ms,
        )
        given = await hand_over(
            connection,
            details=details,
            subject=subject,
            recipient_id=taker_id,
            recipient_email=claim.to_email,
        )
        await end_claim(
            connection,
            claim_id=claim.claim_id,
            status="accepted",
            now_ms=now_ms,
            accepted_by=taker_id,
            accepted_ticket_id=given.ticket_id,
        )
    return given


async def cancel_claim(
    pool: asyncpg.Pool,
    *,
    details: EventDetails,
    claim_id: uuid.UUID,
    giver_id: str,
    now_ms: int,
) -> ClaimRecord:
    """The giver's claim, cancelled (again: it stays cancelled). NothingFound for anyone else's
    claim; ClaimNotPending once it was accepted or has expired."""
    async with tenant_transaction(pool, details.location.tenant_id) as connection:
        claim = await lock_claim(connection, claim_id)
        if claim is None or claim.giver_user_id != giver_id:
            raise NothingFound("claim")
        if claim.status == "cancelled":
            return claim
        await pending_claim(connection, claim_id, now_ms)
        return await end_claim(connection, claim_id=claim_id, status="cancelled", now_ms=now_ms)
