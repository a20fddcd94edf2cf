"""Delivers outbox messages to the worker actors that consume their topics, at least once.

Each round asks Postgres which tenants have a message due (one round trip for them all), reads
each such tenant's due messages (the oldest pending one of each aggregate), hands each topic's
messages to its consumers in one call per consumer, and records the result: dispatched, or
retried after an exponential backoff with jitter. A message that has failed
`OUTBOX_ATTEMPTS_MAX` times is failed work: never given up, it is retried on a long backoff until
it lands, and its venue sees it and may retry it at once. Consumers answer one error or None per
message and must be idempotent, since a crash between delivery and marking delivers again.

Tenants are delivered side by side, and so are the consumers of a topic: a venue whose webhook
answers slowly holds up its own messages, never another tenant's or another consumer's. The
standing loop starts each round without waiting for the last one; a tenant still delivering
sits that round out, and a delivery is bounded in time. The loop survives any failure (it logs
it and goes on at the next round), and `stalled_for_ms` lets the Supervisor's watchdog see one
that stopped turning.
"""

import asyncio
import functools
import logging
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Protocol

import asyncpg

from engine import limits
from persistence.database_errors import DATABASE_ERRORS
from persistence.outbox import (
    DeliveryFailure,
    OutboxMessage,
    due_messages,
    mark_dispatched,
    record_failures,
)
from persistence.pool import create_pool
from persistence.tenancy import tenant_transaction
from persistence.tenant_probes import tenants_with_due_messages

DISPATCHER_POOL_SIZE_MAX = 4
log = logging.getLogger(__name__)


class Consumer(Protocol):
    async def __call__(self, messages: list[OutboxMessage]) -> list[str | None]: ...


def is_failed_work(attempts_so_far: int) -> bool:
    """Whether a message failing now has run out of its quick attempts."""
    return attempts_so_far + 1 >= limits.OUTBOX_ATTEMPTS_MAX


def retry_delay_ms(attempts_so_far: int, generator: random.Random) -> int:
    """Exponential backoff from the base, capped, with full jitter over its upper half: the quick
    one first, then failed work's long one."""
    if is_failed_work(attempts_so_far):
        base_ms, cap_ms = limits.FAILED_WORK_BACKOFF_BASE_MS, limits.FAILED_WORK_BACKOFF_MAX_MS
        doublings = attempts_so_far + 1 - limits.OUTBOX_ATTEMPTS_MAX
    else:
        base_ms, cap_ms = limits.OUTBOX_BACKOFF_BASE_MS, limits.OUTBOX_BACKOFF_MAX_MS
        doublings = attempts_so_far
    # Past cap_ms.bit_length() doublings any base is over the cap: the power stays small.
    ceiling: int = min(base_ms * 2 ** min(doublings, cap_ms.bit_length()), cap_ms)
    return ceiling // 2 + generator.randrange(ceiling // 2 + 1)


class RoundReport:
    """`failed` counts the retries that are failed work, `newly_failed` those that became it."""

    __slots__ = ("dispatched", "failed", "newly_failed", "retried")

    def __init__(self) -> None:
        self.dispatched = 0
        self.retried = 0
        self.failed = 0
        self.newly_failed = 0


class OutboxDispatcher:
    """One per cluster; `routes` maps each topic to its consumers (an empty tuple: nobody)."""

    def __init__(self, *, database_url: str, routes: Mapping[str, Sequence[Consumer]]) -> None:
        self._database_url = database_url
        self._routes = {topic: tuple(consumers) for topic, consumers in routes.items()}
        self._pool: asyncpg.Pool | None = None
        self._random = random.Random()
        self._running: asyncio.Task[None] | None = None
        self._delivering: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._round_ended_s = time.monotonic()

    async def start(self) -> None:
        if self._running is None:
            self._running = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._running is not None:
            self._running.cancel()
        for delivering in list(self._delivering.values()):
            delivering.cancel()
        if self._pool is not None:
            await self._pool.close()

    def stalled_for_ms(self) -> int:
        """How long since the standing loop last finished starting a round."""
        return int((time.monotonic() - self._round_ended_s) * 1_000)

    async def _run(self) -> None:
        while True:
            try:
                await self._start_idle_tenants(RoundReport())
            except DATABASE_ERRORS as error:
                log.warning("outbox round failed", extra={"error": repr(error)})
            except Exception:
                log.exception("outbox round failed unexpectedly; the next round goes on")
            self._round_ended_s = time.monotonic()
            await asyncio.sleep(limits.OUTBOX_POLL_INTERVAL_MS / 1_000)

    async def dispatch_round(self) -> RoundReport:
        """Deliver every message due now, the tenants side by side, and wait for all of them."""
        report = RoundReport()
        await asyncio.gather(*await self._start_idle_tenants(report))
        return report

    async def _start_idle_tenants(self, report: RoundReport) -> list[asyncio.Task[None]]:
        """Start delivering each tenant with a message due that is not delivering already."""
        if self._pool is None:
            self._pool = await create_pool(
                self._database_url, min_size=1, max_size=DISPATCHER_POOL_SIZE_MAX
            )
        async with self._pool.acquire(
            timeout=limits.DATABASE_ACQUIRE_TIMEOUT_MS / 1_000
        ) as connection:
            tenants = await tenants_with_due_messages(connection)
        started = []
        for tenant_id in tenants:
            if tenant_id in self._delivering:
                continue
            delivering = asyncio.create_task(self._dispatch_tenant_logged(tenant_id, report))
            self._delivering[tenant_id] = delivering
            delivering.add_done_callback(functools.partial(self._delivered, tenant_id))
            started.append(delivering)
        return started

    def _delivered(self, tenant_id: uuid.UUID, _: asyncio.Task[None]) -> None:
        self._delivering.pop(tenant_id, None)

    async def _dispatch_tenant_logged(self, tenant_id: uuid.UUID, report: RoundReport) -> None:
        """One tenant's delivery, bounded in time; whatever it meets is logged, and the next
        round delivers what it left (consumers take a message twice without a second effect)."""
        try:
            async with asyncio.timeout(limits.OUTBOX_TENANT_DELIVERY_TIMEOUT_MS / 1_000):
                await self._dispatch_tenant(tenant_id, report)
        except DATABASE_ERRORS as error:
            log.warning(
                "outbox delivery failed", extra={"tenant_id": str(tenant_id), "error": repr(error)}
            )
        except Exception:
            log.exception(
                "outbox delivery failed unexpectedly", extra={"tenant_id": str(tenant_id)}
            )

    async def _dispatch_tenant(self, tenant_id: uuid.UUID, report: RoundReport) -> None:
        assert self._pool is not None
        async with tenant_transaction(self._pool, tenant_id) as connection:
            messages = await due_messages(connection, limit=limits.OUTBOX_BATCH_MESSAGES_MAX)
        if not messages:
            return
        errors = await self._deliver(messages)
        delivered = [m.message_id for m in messages if errors[m.message_id] is None]
        retries = [
            DeliveryFailure(
                message_id=message.message_id,
                error=error[: limits.OUTBOX_ERROR_CHARACTERS_MAX],
                retry_in_ms=retry_delay_ms(message.attempts, self._random),
                is_failed_work=is_failed_work(message.attempts),
            )
            for message in messages
            if (error := errors[message.message_id]) is not None
        ]
        async with tenant_transaction(self._pool, tenant_id) as connection:
            await mark_dispatched(connection, message_ids=delivered)
            await record_failures(connection, failures=retries)
        newly_failed = [
            message
            for message in messages
            if errors[message.message_id] is not None
            and message.attempts + 1 == limits.OUTBOX_ATTEMPTS_MAX
        ]
        report.dispatched += len(delivered)
        report.retried += len(retries)
        report.failed += sum(failure.is_failed_work for failure in retries)
        report.newly_failed += len(newly_failed)
        if newly_failed:
            log.error(
                "outbox messages became failed work; retried on the long backoff",
                extra={
                    "tenant_id": str(tenant_id),
                    "count": len(newly_failed),
                    "topics": sorted({message.topic for message in newly_failed}),
                },
            )

    async def _deliver(self, messages: list[OutboxMessage]) -> dict[uuid.UUID, str | None]:
        """Each message's first error across its topic's consumers, or None if all took it."""
        errors: dict[uuid.UUID, str | None] = {message.message_id: None for message in messages}
        by_topic: dict[str, list[OutboxMessage]] = {}
        for message in messages:
            by_topic.setdefault(message.topic, []).append(message)
        for topic, topic_messages in by_topic.items():
            consumers = self._routes.get(topic)
            if consumers is None:
                for message in topic_messages:
                    errors[message.message_id] = f"no consumer is routed for topic {topic}"
                continue
            every_answer = await asyncio.gather(
                *(self._call(consumer, topic_messages) for consumer in consumers)
            )
            for answers in every_answer:
                for message, answer in zip(topic_messages, answers, strict=True):
                    if answer is not None and errors[message.message_id] is None:
                        errors[message.message_id] = answer
        return errors

    async def _call(self, consumer: Consumer, messages: list[OutboxMessage]) -> list[str | None]:
        try:
            answers = await asyncio.wait_for(
                consumer(messages), timeout=limits.OUTBOX_DELIVERY_TIMEOUT_MS / 1_000
            )
        except Exception as error:
            return [f"delivery failed: {error!r}"] * len(messages)
        assert len(answers) == len(messages), "a consumer answers once per message"
        return answers
