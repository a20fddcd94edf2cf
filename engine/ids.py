"""The names of things the inventory refers to, as plain string aliases.

Ids are minted by the shell (UUIDs, fan subjects) and passed in; the engine never creates one. A new
kind of id gets its alias here so signatures say what a string is.
"""

from typing import TypeAlias

TicketTypeId: TypeAlias = str
SectionId: TypeAlias = str
RowId: TypeAlias = str
SeatId: TypeAlias = str
HoldId: TypeAlias = str
OrderId: TypeAlias = str
FanId: TypeAlias = str
IdempotencyKey: TypeAlias = str
WaitListEntryId: TypeAlias = str
CodeId: TypeAlias = str
ZoneId: TypeAlias = str
ScanId: TypeAlias = str
