"""The wait list's part of a batch's net effect, folded with no I/O: the final state of each entry
the batch touches, and the columns of the statements persistence.wait_list_writes runs.

An entry the batch created is written whole; one that existed is updated to its final status (and
its offer, when the batch made one). A new wait-list change gets its case in
`fold_wait_list_change`.
"""

import dataclasses
from typing import NamedTuple, assert_never

from engine.changes import (
    WaitListJoined,
    WaitListLeft,
    WaitListOfferConverted,
    WaitListOffered,
    WaitListOffersExpired,
)
from engine.ids import HoldId, WaitListEntryId
from engine.inventory.wait_list import WaitListEntry, WaitListStatus

WaitListChange = (
    WaitListJoined | WaitListLeft | WaitListOffered | WaitListOffersExpired | WaitListOfferConverted
)


@dataclasses.dataclass(slots=True)
class WaitListDraft:
    """An entry as the batch leaves it; `joined` is the entry the batch created, if it did."""

    status: WaitListStatus
    joined: WaitListEntry | None = None
    hold_id: HoldId | None = None
    offer_expires_at_ms: int | None = None


def fold_wait_list_change(
    drafts: dict[WaitListEntryId, WaitListDraft], change: WaitListChange
) -> None:
    match change:
        case WaitListJoined(entry=entry):
            assert entry.entry_id not in drafts, entry.entry_id
            drafts[entry.entry_id] = WaitListDraft(status=entry.status, joined=entry)
        case WaitListOffered(entry_id=entry_id, hold_id=hold_id):
            draft = drafts.setdefault(entry_id, WaitListDraft(status=WaitListStatus.WAITING))
            draft.status = WaitListStatus.OFFERED
            draft.hold_id = hold_id
            draft.offer_expires_at_ms = change.offer_expires_at_ms
        case WaitListLeft(entry_id=entry_id):
            _end(drafts, entry_id, WaitListStatus.LEFT)
        case WaitListOffersExpired(entry_ids=entry_ids):
            for entry_id in entry_ids:
                _end(drafts, entry_id, WaitListStatus.EXPIRED)
        case WaitListOfferConverted(entry_id=entry_id):
            _end(drafts, entry_id, WaitListStatus.CONVERTED)
        case _:
            assert_never(change)


def _end(
    drafts: dict[WaitListEntryId, WaitListDraft], entry_id: WaitListEntryId, status: WaitListStatus
) -> None:
    draft = drafts.setdefault(entry_id, WaitListDraft(status=status))
    draft.status = status


class NewWaitListEntries(NamedTuple):
    entry_ids: list[WaitListEntryId]
    fan_ids: list[str]
    emails: list[str | None]
    quantities: list[int]
    ticket_type_ids: list[str | None]
    sequences: list[int]
    statuses: list[str]
    hold_ids: list[HoldId | None]
    offer_expires_at_ms: list[int | None]


class ChangedWaitListEntries(NamedTuple):
    """Entries from before the batch; a None hold keeps the one the row has."""

    entry_ids: list[WaitListEntryId]
    statuses: list[str]
    hold_ids: list[HoldId | None]
    offer_expires_at_ms: list[int | None]


def new_wait_list_entries(drafts: dict[WaitListEntryId, WaitListDraft]) -> NewWaitListEntries:
    rows = NewWaitListEntries([], [], [], [], [], [], [], [], [])
    for entry_id, draft in drafts.items():
        entry = draft.joined
        if entry is None:
            continue
        rows.entry_ids.append(entry_id)
        rows.fan_ids.append(entry.fan_id)
        rows.emails.append(entry.email)
        rows.quantities.append(entry.quantity)
        rows.ticket_type_ids.append(entry.ticket_type_id)
        rows.sequences.append(entry.sequence)
        rows.statuses.append(draft.status.value)
        rows.hold_ids.append(draft.hold_id)
        rows.offer_expires_at_ms.append(draft.offer_expires_at_ms)
    return rows


def changed_wait_list_entries(
    drafts: dict[WaitListEntryId, WaitListDraft],
) -> ChangedWaitListEntries:
    rows = ChangedWaitListEntries([], [], [], [])
    for entry_id, draft in drafts.items():
        if draft.joined is not None:
            continue
        rows.entry_ids.append(entry_id)
        rows.statuses.append(draft.status.value)
        rows.hold_ids.append(draft.hold_id)
        rows.offer_expires_at_ms.append(draft.offer_expires_at_ms)
    return rows


def offers_to_announce(drafts: dict[WaitListEntryId, WaitListDraft]) -> list[WaitListEntryId]:
    """Entries the batch offered a hold that is still theirs when it commits."""
    return [
        entry_id
        for entry_id, draft in drafts.items()
        if draft.status is WaitListStatus.OFFERED and draft.hold_id is not None
    ]
