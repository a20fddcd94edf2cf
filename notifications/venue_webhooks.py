"""Signed webhooks to a venue: the body, the `Onsale-Signature` header, its check, and the POST.

The body is `{"id", "type", "created", "data"}`; `id` is stable across deliveries, so a venue
that receives one twice can tell. The header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">` keyed with the event's `whsec_` secret, in the manner of Stripe's, and a venue
checks it with `verify_signature`. A POST is retried here, with exponential backoff and jitter, on
network errors, 429 and 5xx; any other answer but a 2xx is final. It connects to the address its
host was resolved to and checked at (see `webhook_destinations`).
"""

import asyncio
import hashlib
import hmac
import random
import time
from collections.abc import Callable

import httpx
import msgspec

from engine import limits
from notifications.notices import Notice, NoticeKind, NoticeTicket
from notifications.send_failure import SendFailure
from notifications.webhook_destinations import (
    RefusedDestination,
    Resolve,
    pinned_destination,
    resolve_host,
)

SIGNATURE_HEADER = "Onsale-Signature"
SIGNATURE_SCHEME = "v1"
USER_AGENT = "onsale-webhooks/1"
RETRYABLE_STATUS_MIN = 500
TOO_MANY_REQUESTS = 429

WEBHOOK_TYPES: dict[NoticeKind, str] = {
    NoticeKind.ORDER_CONFIRMED: "order.confirmed",
    NoticeKind.PAYMENT_FAILED: "order.payment_failed",
    NoticeKind.ORDER_EXPIRED: "order.expired",
    NoticeKind.REFUNDED: "order.refunded",
    NoticeKind.TICKET_TRANSFERRED: "ticket.transferred",
    NoticeKind.WAIT_LIST_OFFERED: "wait_list.offered",
    NoticeKind.TICKET_CLAIM_OFFERED: "ticket.claim_offered",
    NoticeKind.EVENT_CANCELLED: "order.event_cancelled",
    NoticeKind.EVENT_POSTPONED: "order.event_postponed",
}
assert set(WEBHOOK_TYPES) == set(NoticeKind), "every notice kind has a webhook type"


class WebhookData(msgspec.Struct, frozen=True, kw_only=True):
    """What the venue is told: the notice without the fan's email address."""

    event_id: str
    event_name: str
    order_id: str | None
    user_id: str
    total_cents: int
    currency: str
    tickets: tuple[NoticeTicket, ...]
    reason: str | None
    to_user_id: str | None


class WebhookBody(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: str
    created: int
    data: WebhookData


class VenueEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    secret: str


def webhook_body(notice: Notice, *, webhook_id: str, created_s: int) -> bytes:
    return msgspec.json.encode(
        WebhookBody(
            id=webhook_id,
            type=WEBHOOK_TYPES[notice.kind],
            created=created_s,
            data=WebhookData(
                event_id=str(notice.event_id),
                event_name=notice.event_name,
                order_id=None if notice.order_id is None else str(notice.order_id),
                user_id=notice.user_id,
                total_cents=notice.total_cents,
                currency=notice.currency,
                tickets=notice.tickets,
                reason=notice.reason,
                to_user_id=notice.to_user_id,
            ),
        )
    )


def signature(secret: str, timestamp_s: int, body: bytes) -> str:
    signed = str(timestamp_s).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp_s: int, body: bytes) -> str:
    return f"t={timestamp_s},{SIGNATURE_SCHEME}={signature(secret, timestamp_s, body)}"


def verify_signature(
    *,
    secret: str,
    header: str,
    body: bytes,
    now_s: int,
    tolerance_s: int = limits.WEBHOOK_SIGNATURE_TOLERANCE_MS // limits.MILLISECONDS_PER_SECOND,
) -> bool:
    """Whether `header` signs `body` with `secret` at a time within `tolerance_s` of now.

    Several `v1=` entries are allowed (a venue rotating secrets checks each); any one matching
    suffices. A malformed header is simply not verified.
    """
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            timestamps.append(value)
        elif name == SIGNATURE_SCHEME:
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit():
        return False
    timestamp_s = int(timestamps[0])
    if abs(now_s - timestamp_s) > tolerance_s:
        return False
    expected = signature(secret, timestamp_s, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def retry_delay_ms(attempts_so_far: int, generator: random.Random) -> int:
    """Exponential backoff from the base, capped, with full jitter over its upper half."""
    ceiling: int = min(
        limits.WEBHOOK_BACKOFF_BASE_MS * 2**attempts_so_far, limits.WEBHOOK_BACKOFF_MAX_MS
    )
    return ceiling // 2 + generator.randrange(ceiling // 2 + 1)


def is_retryable(status: int) -> bool:
    return status == TOO_MANY_REQUESTS or status >= RETRYABLE_STATUS_MIN


def new_http_client() -> httpx.AsyncClient:
    """The client webhooks are posted with: bounded in time, and never following a redirect."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(limits.WEBHOOK_TIMEOUT_MS / 1_000),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


class WebhookSender:
    """Posts to venues; `allow_private` lets webhooks reach private addresses (never in
    production)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        allow_private: bool,
        resolve: Resolve = resolve_host,
        clock_s: Callable[[], float] = time.time,
        generator: random.Random | None = None,
    ) -> None:
        self._client = client
        self._allow_private = allow_private
        self._resolve = resolve
        self._clock_s = clock_s
        self._random = generator or random.Random()

    async def send(self, endpoint: VenueEndpoint, body: bytes) -> SendFailure | None:
        """POST the body, signed afresh on each attempt; None once the venue answered 2xx."""
        attempts = 0
        while True:
            failure = await self._post(endpoint, body)
            attempts += 1
            done = failure is None or not failure.retryable
            if done or attempts >= limits.WEBHOOK_ATTEMPTS_PER_DELIVERY_MAX:
                return failure
            await asyncio.sleep(retry_delay_ms(attempts - 1, self._random) / 1_000)

    async def _post(self, endpoint: VenueEndpoint, body: bytes) -> SendFailure | None:
        try:
            destination = await pinned_destination(
                endpoint.url, allow_private=self._allow_private, resolve=self._resolve
            )
        except RefusedDestination as refused:
            return SendFailure(error=f"webhook: {refused}", retryable=refused.retryable)
        headers = {
            "Host": destination.host_header,
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(endpoint.secret, int(self._clock_s()), body),
        }
        try:
            async with self._client.stream(
                "POST",
                destination.url,
                content=body,
                headers=headers,
                extensions={"sni_hostname": destination.server_name},
            ) as response:
                status = response.status_code
        except httpx.TransportError as error:
            return SendFailure(error=f"webhook: {error!r}", retryable=True)
        except httpx.InvalidURL as error:
            return SendFailure(error=f"webhook: {error!r}", retryable=False)
        if 200 <= status < 300:
            return None
        return SendFailure(
            error=f"webhook: the venue answered {status}", retryable=is_retryable(status)
        )
