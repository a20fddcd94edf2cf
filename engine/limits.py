"""Every bound of the system in one place: queues, batches, retries, timeouts, TTLs and sizes.

A limit lives here as a named constant, never as a literal in code (STYLE.md rule 5). Changing one
is a product decision: say why in the commit.
"""

# Orders and holds
ITEMS_PER_HOLD_MAX = 20
TICKETS_PER_HOLD_MAX = 50
SEATS_PER_HOLD_MAX = 50

# Events
TICKET_TYPES_PER_EVENT_MAX = 100
SEATS_PER_EVENT_MAX = 200_000
CAPACITY_PER_TICKET_TYPE_MAX = 1_000_000
HOLD_TTL_S_MIN = 30
HOLD_TTL_S_MAX = 3_600
