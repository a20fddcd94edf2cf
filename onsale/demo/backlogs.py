"""The work the sale leaves behind: NFTs to mint and emails to send, counted in Postgres as its
owner, and the bounded wait for both to drain before the report.

Expected emails are the notices with an address the sale wrote to the outbox; each ends as one
`notifications` row, sent or failed (failed work still being retried counts as pending). The
wait ends when both backlogs are empty, when nothing moved for DRAIN_STALL_S, or at the timeout.
"""

import asyncio
import time
import uuid
from collections.abc import Callable

import asyncpg
import msgspec

DRAIN_POLL_S = 1.0
DRAIN_STALL_S = 30.0

SELECT_MINTS = """
SELECT nft_mints.status, count(*) AS mints
FROM nft_mints JOIN tickets ON tickets.id = nft_mints.ticket_id
WHERE tickets.event_id = $1
GROUP BY nft_mints.status
"""

SELECT_EXPECTED_EMAILS = """
SELECT count(*) FROM outbox
WHERE topic LIKE 'notice.%' AND payload->>'event_id' = $1 AND payload->>'email' IS NOT NULL
"""

SELECT_EMAILS = """
SELECT status, count(*) AS emails FROM notifications
WHERE channel = 'email' AND payload->>'event_id' = $1
GROUP BY status
"""


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    mints_pending: int
    minted: int
    mints_failed: int
    emails_expected: int
    emails_sent: int
    emails_failed: int

    @property
    def emails_pending(self) -> int:
        return max(0, self.emails_expected - self.emails_sent - self.emails_failed)

    @property
    def drained(self) -> bool:
        return self.mints_pending == 0 and self.emails_pending == 0

    @property
    def progress(self) -> tuple[int, int, int, int]:
        """What moves while the backlogs drain; unchanged for long means stalled."""
        return self.minted, self.mints_failed, self.emails_sent, self.emails_failed


class DrainResult(msgspec.Struct, frozen=True, kw_only=True):
    backlog: Backlog
    waited_s: float
    ended_by: str


async def read_backlog(connection: asyncpg.Connection, event_id: uuid.UUID) -> Backlog:
    mints = {row["status"]: row["mints"] for row in await connection.fetch(SELECT_MINTS, event_id)}
    emails = {
        row["status"]: row["emails"] for row in await connection.fetch(SELECT_EMAILS, str(event_id))
    }
    return Backlog(
        mints_pending=mints.get("pending", 0),
        minted=mints.get("minted", 0),
        mints_failed=mints.get("failed", 0),
        emails_expected=await connection.fetchval(SELECT_EXPECTED_EMAILS, str(event_id)),
        emails_sent=emails.get("sent", 0),
        emails_failed=emails.get("failed", 0),
    )


async def drain_backlogs(
    database_url: str,
    event_id: str,
    *,
    timeout_s: float,
    on_backlog: Callable[[Backlog, float], None],
) -> DrainResult:
    """Wait until nothing is left to mint or email, nothing moved for DRAIN_STALL_S, or
    `timeout_s` passed; `on_backlog` sees every reading with the seconds waited."""
    event_uuid = uuid.UUID(event_id)
    connection = await asyncpg.connect(database_url)
    try:
        started = last_moved = time.monotonic()
        backlog = await read_backlog(connection, event_uuid)
        while True:
            waited_s = time.monotonic() - started
            on_backlog(backlog, waited_s)
            if backlog.drained:
                return DrainResult(backlog=backlog, waited_s=waited_s, ended_by="drained")
            if waited_s >= timeout_s:
                return DrainResult(backlog=backlog, waited_s=waited_s, ended_by="timeout")
            if time.monotonic() - last_moved >= DRAIN_STALL_S:
                return DrainResult(backlog=backlog, waited_s=waited_s, ended_by="stalled")
            await asyncio.sleep(DRAIN_POLL_S)
            previous, backlog = backlog, await read_backlog(connection, event_uuid)
            if backlog.progress != previous.progress:
                last_moved = time.monotonic()
    finally:
        await connection.close()
