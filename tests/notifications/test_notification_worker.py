"""The notification worker on real parts: Postgres, the SMTP sink and a venue's HTTP server.

Each notice is emailed and posted once however often it is delivered; a failure is recorded and
answered for the dispatcher to retry, past its quick attempts too, until it is sent; only a
refusal settles it as failed."""

import asyncio
import email
import email.policy
import json
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from actors.notification_worker import BEING_SENT_ELSEWHERE, NotificationWorker
from actors.outbox_dispatcher import OutboxDispatcher
from engine import limits
from engine.inventory.configuration import TicketKind
from notifications.notices import Notice, NoticeKind, NoticeTicket, encode_notice, notice_topic
from notifications.venue_webhooks import SIGNATURE_HEADER, verify_signature
from persistence.event_repository import NewTicketType
from persistence.pool import service_url
from tests.notifications.conftest import RunningSink, VenueServer
from tests.notifications.notice_builders import (
    of_kind,
    order_confirmed,
    outbox_message,
    redelivered,
)
from tests.persistence.builders import CreatedEventOfTenant, create_event_of_new_tenant, new_event

MAIL_FROM = "tickets@onsale.localhost"
# Long enough that every concurrent delivery reaches the row while the first is still posting.
OVERLAP_S = 0.5
GENERAL_ADMISSION = NewTicketType(
    key="GA", name="General Admission", kind=TicketKind.GENERAL, price_cents=5_000, capacity=100
)

SELECT_NOTIFICATIONS = """
SELECT channel, kind, user_id, recipient, status, attempts, last_error, id
FROM notifications WHERE tenant_id = $1 ORDER BY channel
"""


@pytest.fixture
async def worker(
    migrated_database_url: str, smtp_sink: RunningSink
) -> AsyncIterator[NotificationWorker]:
    worker = NotificationWorker(
        database_url=service_url(migrated_database_url),
        smtp_url=smtp_sink.url,
        mail_from=MAIL_FROM,
        webhooks_to_private_addresses=True,
    )
    yield worker
    await worker.close()


async def create_event(
    service_pool: asyncpg.Pool, owner: asyncpg.Connection, webhook_url: str | None = None
) -> CreatedEventOfTenant:
    event = msgspec.structs.replace(new_event((GENERAL_ADMISSION,)), webhook_url=webhook_url)
    return await create_event_of_new_tenant(service_pool, owner, event)


@pytest.fixture
async def event(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> CreatedEventOfTenant:
    return await create_event(service_pool, owner_connection)


@pytest.fixture
async def event_with_webhook(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, venue_server: VenueServer
) -> CreatedEventOfTenant:
    return await create_event(service_pool, owner_connection, venue_server.url)


async def notifications(owner: asyncpg.Connection, tenant_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await owner.fetch(SELECT_NOTIFICATIONS, tenant_id))


def read_mail(kept: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(kept, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


async def test_one_email_and_one_sent_row_when_a_confirmation_is_delivered_twice(
    worker: NotificationWorker,
    smtp_sink: RunningSink,
    owner_connection: asyncpg.Connection,
    event: CreatedEventOfTenant,
) -> None:
    notice = order_confirmed(event.tenant_id, event.event_id)
    message = outbox_message(notice)
    written_again = outbox_message(notice)

    answers = [
        await worker.deliver([message]),
        await worker.deliver([redelivered(message, attempts=0)]),
        await worker.deliver([written_again]),
    ]

    assert answers == [[None]] * 3
    [kept] = smtp_sink.messages()
    received = read_mail(kept)
    assert received["To"] == "fan@example.com"
    assert received["From"] == MAIL_FROM
    body = received.get_body(("plain",))
    assert body is not None
    assert all(str(ticket.ticket_id) in body.get_content() for ticket in notice.tickets)
    [row] = await notifications(owner_connection, event.tenant_id)
    assert (row["channel"], row["kind"], row["status"], row["attempts"]) == (
        "email",
        "order_confirmed",
        "sent",
        1,
    )
    assert received["Message-ID"] == f"<{row['id']}@onsale.localhost>"


async def test_no_email_is_sent_when_the_notice_has_no_address(
    worker: NotificationWorker,
    smtp_sink: RunningSink,
    owner_connection: asyncpg.Connection,
    event: CreatedEventOfTenant,
) -> None:
    notice = order_confirmed(event.tenant_id, event.event_id, email=None)

    assert await worker.deliver([outbox_message(notice)]) == [None]
    assert smtp_sink.messages() == []
    assert await notifications(owner_connection, event.tenant_id) == []


async def test_each_transfer_is_emailed_to_its_recipient_when_a_ticket_changes_hands_twice(
    worker: NotificationWorker,
    smtp_sink: RunningSink,
    owner_connection: asyncpg.Connection,
    event: CreatedEventOfTenant,
) -> None:
    ticket = NoticeTicket(ticket_id=uuid.uuid4(), ticket_type_name="Reserved", seat="101-A-7")
    transfer = of_kind(
        order_confirmed(event.tenant_id, event.event_id),
        NoticeKind.TICKET_TRANSFERRED,
        tickets=(ticket,),
        email="friend@example.com",
        to_user_id="fan-2",
    )
    first, second = outbox_message(transfer), outbox_message(transfer)

    assert await worker.deliver([first]) == [None]
    assert await worker.deliver([first, second]) == [None, None]

    kept = [read_mail(message) for message in smtp_sink.messages()]
    assert [message["To"] for message in kept] == ["friend@example.com"] * 2
    assert all("fan-1 transferred a ticket" in str(message.get_body()) for message in kept)
    rows = await notifications(owner_connection, event.tenant_id)
    assert [(row["user_id"], row["status"]) for row in rows] == [("fan-2", "sent")] * 2


async def test_webhook_is_posted_once_with_a_signature_that_verifies_when_the_event_has_a_url(
    worker: NotificationWorker,
    venue_server: VenueServer,
    owner_connection: asyncpg.Connection,
    event_with_webhook: CreatedEventOfTenant,
) -> None:
    event = event_with_webhook
    notice = order_confirmed(event.tenant_id, event.event_id)
    message = outbox_message(notice)

    assert await worker.deliver([message]) == [None]
    assert await worker.deliver([message]) == [None]

    [received] = venue_server.received
    secret = await owner_connection.fetchval(
        "SELECT webhook_secret FROM events WHERE id = $1", event.event_id
    )
    assert secret.startswith("whsec_")
    assert verify_signature(
        secret=secret,
        header=received.headers[SIGNATURE_HEADER],
        body=received.body,
        now_s=int(time.time()),
    )
    body = json.loads(received.body)
    rows = await notifications(owner_connection, event.tenant_id)
    assert [(row["channel"], row["status"]) for row in rows] == [
        ("email", "sent"),
        ("webhook", "sent"),
    ]
    assert body["id"] == str(rows[1]["id"])
    assert (body["type"], body["data"]["order_id"]) == ("order.confirmed", str(notice.order_id))


async def test_webhook_is_retried_later_and_the_email_not_sent_again_when_the_venue_fails(
    worker: NotificationWorker,
    smtp_sink: RunningSink,
    venue_server: VenueServer,
    owner_connection: asyncpg.Connection,
    event_with_webhook: CreatedEventOfTenant,
) -> None:
    event = event_with_webhook
    venue_server.statuses = [500] * limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX
    message = outbox_message(order_confirmed(event.tenant_id, event.event_id))

    [error] = await worker.deliver([message])
    rows_after_failure = await notifications(owner_connection, event.tenant_id)
    [answer] = await worker.deliver([redelivered(message, attempts=1)])

    assert error is not None and "500" in error
    webhook_row = rows_after_failure[1]
    assert (webhook_row["status"], webhook_row["attempts"]) == ("pending", 1)
    assert "500" in webhook_row["last_error"]
    assert answer is None
    assert len(venue_server.received) == limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX + 1
    assert len(smtp_sink.messages()) == 1
    rows = await notifications(owner_connection, event.tenant_id)
    assert [(row["status"], row["attempts"]) for row in rows] == [("sent", 1), ("sent", 2)]


async def test_notification_is_sent_as_failed_work_when_its_quick_attempts_all_failed(
    worker: NotificationWorker,
    venue_server: VenueServer,
    owner_connection: asyncpg.Connection,
    event_with_webhook: CreatedEventOfTenant,
) -> None:
    event = event_with_webhook
    venue_server.statuses = [503] * limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX
    notice = order_confirmed(event.tenant_id, event.event_id, email=None)
    last_quick = outbox_message(notice, attempts=limits.OUTBOX_ATTEMPTS_MAX - 1)
    failed_work = redelivered(last_quick, attempts=limits.OUTBOX_ATTEMPTS_MAX)

    [error] = await worker.deliver([last_quick])
    [row_after_failure] = await notifications(owner_connection, event.tenant_id)
    [again] = await worker.deliver([failed_work])

    assert error is not None and "503" in error
    assert (row_after_failure["status"], row_after_failure["attempts"]) == ("pending", 1)
    assert again is None
    assert len(venue_server.received) == limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX + 1
    [row] = await notifications(owner_connection, event.tenant_id)
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_webhook_is_settled_failed_without_a_retry_when_the_venue_refuses_it(
    worker: NotificationWorker,
    venue_server: VenueServer,
    owner_connection: asyncpg.Connection,
    event_with_webhook: CreatedEventOfTenant,
) -> None:
    event = event_with_webhook
    venue_server.statuses = [410]
    notice = order_confirmed(event.tenant_id, event.event_id, email=None)

    assert await worker.deliver([outbox_message(notice)]) == [None]

    assert len(venue_server.received) == 1
    [row] = await notifications(owner_connection, event.tenant_id)
    assert (row["status"], row["last_error"]) == ("failed", "webhook: the venue answered 410")


async def test_pending_webhook_is_posted_once_when_deliveries_of_its_notice_run_at_once(
    worker: NotificationWorker,
    venue_server: VenueServer,
    owner_connection: asyncpg.Connection,
    event_with_webhook: CreatedEventOfTenant,
) -> None:
    event = event_with_webhook
    venue_server.statuses = [500] * limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX
    message = outbox_message(order_confirmed(event.tenant_id, event.event_id, email=None))
    await worker.deliver([message])
    failed_posts = len(venue_server.received)

    venue_server.answer_delay_s = OVERLAP_S
    again = redelivered(message, attempts=1)
    answers = await asyncio.gather(*(worker.deliver([again]) for _ in range(4)))

    assert len(venue_server.received) == failed_posts + 1
    assert all(answer in ([None], [BEING_SENT_ELSEWHERE]) for answer in answers)
    [row] = await notifications(owner_connection, event.tenant_id)
    assert (row["status"], row["attempts"]) == ("sent", 2)


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("notice.order_confirmed", '{"kind": "order_confirmed"}'),
        ("notice.order_confirmed", "{not json"),
        ("notice.refunded", None),
        ("ticket.mint", None),
    ],
    ids=["not a notice", "not json", "kind is not the topic's", "not a notice topic"],
)
async def test_message_is_answered_with_an_error_when_it_carries_no_notice_of_its_topic(
    worker: NotificationWorker,
    smtp_sink: RunningSink,
    event: CreatedEventOfTenant,
    topic: str,
    payload: str | None,
) -> None:
    message = outbox_message(order_confirmed(event.tenant_id, event.event_id))
    wrong = msgspec.structs.replace(message, topic=topic, payload=payload or message.payload)

    [error] = await worker.deliver([wrong])

    assert error
    assert smtp_sink.messages() == []


async def test_outbox_notice_is_emailed_when_the_dispatcher_routes_it_to_the_worker(
    worker: NotificationWorker,
    smtp_sink: RunningSink,
    migrated_database_url: str,
    owner_connection: asyncpg.Connection,
    event: CreatedEventOfTenant,
) -> None:
    notice: Notice = order_confirmed(event.tenant_id, event.event_id)
    await owner_connection.execute(
        "INSERT INTO outbox (tenant_id, topic, aggregate_id, payload) VALUES ($1, $2, $3, $4)",
        event.tenant_id,
        notice_topic(notice.kind),
        str(notice.order_id),
        encode_notice(notice),
    )
    dispatcher = OutboxDispatcher(
        database_url=service_url(migrated_database_url),
        routes={notice_topic(notice.kind): (worker.deliver,)},
    )
    try:
        report = await dispatcher.dispatch_round()
    finally:
        await dispatcher.close()

    assert report.dispatched == 1
    [kept] = smtp_sink.messages()
    assert read_mail(kept)["Subject"] == "Your tickets for Night One"


async def test_each_resent_confirmation_is_emailed_once_and_never_posted_to_the_venue(
    worker: NotificationWorker,
    smtp_sink: RunningSink,
    venue_server: VenueServer,
    owner_connection: asyncpg.Connection,
    event_with_webhook: CreatedEventOfTenant,
) -> None:
    event = event_with_webhook
    notice = order_confirmed(event.tenant_id, event.event_id)
    resends = [
        outbox_message(msgspec.structs.replace(notice, resend_id=uuid.uuid4())) for _ in range(2)
    ]

    assert await worker.deliver([outbox_message(notice)]) == [None]
    for message in resends:
        assert await worker.deliver([message]) == [None]
        assert await worker.deliver([redelivered(message, attempts=1)]) == [None]

    assert [read_mail(kept)["To"] for kept in smtp_sink.messages()] == ["fan@example.com"] * 3
    assert len(venue_server.received) == 1
    rows = await notifications(owner_connection, event.tenant_id)
    assert sorted((row["channel"], row["status"]) for row in rows) == [
        ("email", "sent"),
        ("email", "sent"),
        ("email", "sent"),
        ("webhook", "sent"),
    ]
