"""Consumes the `notice.*` topics of the outbox: emails each fan and posts each venue's webhook.

Every notice makes up to two notifications, the email (when the notice has an address) and the
webhook (when the event has a URL), each a row keyed by what it announces, so a notice delivered
again is sent once: a `sent` row is skipped. A failed send counts an attempt and answers its error,
and the dispatcher retries the message, as failed work on a long backoff once its quick attempts
are spent, until it is sent; only a send that can never pass settles the row as `failed`. One
delivery keeps within NOTIFICATION_DELIVERY_BUDGET_MS, so it answers before the dispatcher stops
waiting.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import msgspec

from engine import limits
from notifications.mail import UnsendableAddress, checked_address, compose_email
from notifications.mailer import Mailer
from notifications.notices import NOTICE_TOPICS, Notice, NoticeKind, decode_notice, notice_topic
from notifications.send_failure import SendFailure
from notifications.venue_webhooks import (
    VenueEndpoint,
    WebhookSender,
    new_http_client,
    webhook_body,
)
from persistence.database_errors import DATABASE_ERRORS
from persistence.notification_repository import (
    ClaimedNotification,
    NewNotification,
    claim_notification,
    find_event_webhook,
    record_failed_attempt,
    record_sent,
)
from persistence.outbox import OutboxMessage
from persistence.pool import create_pool
from persistence.tenancy import tenant_transaction

NOTIFICATION_POOL_SIZE_MAX = limits.NOTIFICATIONS_SENT_CONCURRENTLY_MAX + 1
BEING_SENT_ELSEWHERE = "another delivery of this notice is sending it; retried later"
BUDGET_SPENT = "not attempted: this delivery's time budget was spent; retried later"

log = logging.getLogger(__name__)

Send = Callable[[ClaimedNotification], Awaitable[SendFailure | None]]


def occurrence_of(notice: Notice, message: OutboxMessage) -> str | None:
    """What one notice announces, once: the order for an order's notices (it has each at most
    once), the outbox message for a transfer (a ticket may change hands more than once) and a
    refund (an order may have several; each completion writes its notice once), the offered hold
    for a wait-list offer (an entry is offered once), the claim for a ticket offered by email, the
    order and the resend for a notice the venue sent again. None for an order's notice that names
    no order. A postponement is told once per order each time it happens, so by its message too."""
    if notice.resend_id is not None and notice.order_id is not None:
        return f"{notice.order_id}:resend:{notice.resend_id}"
    if notice.kind in (
        NoticeKind.TICKET_TRANSFERRED,
        NoticeKind.REFUNDED,
        NoticeKind.EVENT_POSTPONED,
    ):
        return str(message.message_id)
    if notice.kind is NoticeKind.WAIT_LIST_OFFERED:
        return None if notice.hold_id is None else str(notice.hold_id)
    if notice.kind is NoticeKind.TICKET_CLAIM_OFFERED:
        return None if notice.claim_id is None else str(notice.claim_id)
    return None if notice.order_id is None else str(notice.order_id)


class NotificationWorker:
    """A plain class; made a Ray actor in actors/remote.py. `__init__` does no I/O."""

    def __init__(
        self,
        *,
        database_url: str,
        smtp_url: str,
        mail_from: str,
        webhooks_to_private_addresses: bool,
    ) -> None:
        self._database_url = database_url
        self._smtp_url = smtp_url
        self._mail_from = mail_from
        self._webhooks_to_private_addresses = webhooks_to_private_addresses
        self._pool: asyncpg.Pool | None = None
        self._mailer: Mailer | None = None
        self._http: httpx.AsyncClient | None = None
        self._webhooks: WebhookSender | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        """Open the pool and the clients once; calling again changes nothing.

        Raises ValueError when the SMTP URL or the sender address is malformed: every email would
        fail, so no notice is taken until the configuration is fixed.
        """
        async with self._starting:
            if self._pool is not None:
                return
            checked_address(self._mail_from)
            mailer = Mailer(self._smtp_url)
            self._pool = await create_pool(
                self._database_url, min_size=1, max_size=NOTIFICATION_POOL_SIZE_MAX
            )
            self._mailer = mailer
            self._http = new_http_client()
            self._webhooks = WebhookSender(
                self._http, allow_private=self._webhooks_to_private_addresses
            )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._pool is not None:
            await self._pool.close()

    async def deliver(self, messages: list[OutboxMessage]) -> list[str | None]:
        """One answer per message: None when it is done, else the error to retry it for."""
        await self.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limits.NOTIFICATION_DELIVERY_BUDGET_MS / 1_000
        sending = asyncio.Semaphore(limits.NOTIFICATIONS_SENT_CONCURRENTLY_MAX)

        async def answer_one(message: OutboxMessage) -> str | None:
            async with sending:
                remaining_s = deadline - loop.time()
                if remaining_s <= 0:
                    return BUDGET_SPENT
                try:
                    return await asyncio.wait_for(self._deliver_one(message), remaining_s)
                except TimeoutError:
                    return BUDGET_SPENT
                except DATABASE_ERRORS as error:
                    return f"notification not recorded: {error!r}"

        answers = await asyncio.gather(*(answer_one(message) for message in messages))
        return [
            None if error is None else error[: limits.NOTIFICATION_ERROR_CHARACTERS_MAX]
            for error in answers
        ]

    async def _deliver_one(self, message: OutboxMessage) -> str | None:
        if message.topic not in NOTICE_TOPICS:
            return f"the notification worker does not consume {message.topic}"
        try:
            notice = decode_notice(message.payload)
        except msgspec.DecodeError as error:
            return f"not a notice: {error}"
        if notice_topic(notice.kind) != message.topic or notice.tenant_id != message.tenant_id:
            return "the notice's kind or tenant is not its message's"
        occurrence = occurrence_of(notice, message)
        if occurrence is None:
            return f"a {notice.kind} notice names no order"
        payload = msgspec.json.encode(msgspec.structs.replace(notice, claim_token=None)).decode()
        errors: list[str | None] = []
        if notice.email:
            email = NewNotification(
                dedupe_key=f"{notice.kind}:{occurrence}:email",
                channel="email",
                kind=notice.kind.value,
                user_id=notice.to_user_id or notice.user_id,
                recipient=notice.email,
                payload=payload,
            )
            send_email = self._email_sender(notice, notice.email)
            errors.append(await self._send_once(notice.tenant_id, email, send_email))
        async with tenant_transaction(self._started_pool(), notice.tenant_id) as connection:
            webhook = await find_event_webhook(connection, event_id=notice.event_id)
        # A notice sent again is for the fan: the venue's systems had the first.
        if webhook is not None and notice.resend_id is None:
            post = NewNotification(
                dedupe_key=f"{notice.kind}:{occurrence}:webhook",
                channel="webhook",
                kind=notice.kind.value,
                user_id=notice.user_id,
                recipient=webhook.url,
                payload=payload,
            )
            endpoint = VenueEndpoint(url=webhook.url, secret=webhook.secret)
            send_post = self._webhook_sender(notice, endpoint)
            errors.append(await self._send_once(notice.tenant_id, post, send_post))
        return "; ".join(error for error in errors if error is not None) or None

    async def _send_once(
        self, tenant_id: uuid.UUID, notification: NewNotification, send: Send
    ) -> str | None:
        """Send unless already settled, holding the row's lock until the outcome is recorded."""
        async with tenant_transaction(self._started_pool(), tenant_id) as connection:
            claimed = await claim_notification(
                connection, tenant_id=tenant_id, notification=notification
            )
            if claimed is None:
                return BEING_SENT_ELSEWHERE
            if claimed.status != "pending":
                return None
            failure = await send(claimed)
            if failure is None:
                await record_sent(connection, notification_id=claimed.notification_id)
                return None
            error = failure.error[: limits.NOTIFICATION_ERROR_CHARACTERS_MAX]
            gave_up = not failure.retryable
            await record_failed_attempt(
                connection, notification_id=claimed.notification_id, error=error, gave_up=gave_up
            )
        log.warning(
            "notification not sent",
            extra={"dedupe_key": notification.dedupe_key, "error": error, "gave_up": gave_up},
        )
        return error if failure.retryable else None

    def _email_sender(self, notice: Notice, recipient: str) -> Send:
        async def send(claimed: ClaimedNotification) -> SendFailure | None:
            assert self._mailer is not None
            try:
                message = compose_email(
                    notice,
                    sender=self._mail_from,
                    recipient=recipient,
                    notification_id=claimed.notification_id,
                    now_s=time.time(),
                )
            except UnsendableAddress as error:
                return SendFailure(error=str(error), retryable=False)
            return await self._mailer.send(message)

        return send

    def _webhook_sender(self, notice: Notice, endpoint: VenueEndpoint) -> Send:
        async def send(claimed: ClaimedNotification) -> SendFailure | None:
            assert self._webhooks is not None
            body = webhook_body(
                notice,
                webhook_id=str(claimed.notification_id),
                created_s=claimed.created_at_s,
            )
            return await self._webhooks.send(endpoint, body)

        return send

    def _started_pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "deliver starts the worker first"
        return self._pool
