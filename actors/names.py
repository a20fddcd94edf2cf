"""How per-event actors are found: one Ray namespace and one name per actor kind and event."""

import hashlib

NAMESPACE = "onsale"
SUPERVISOR_NAME = "supervisor"
INVENTORY_PREFIX = "inventory:"
WAITING_ROOM_PREFIX = "waiting_room:"


def inventory_actor_name(event_id: str) -> str:
    return f"{INVENTORY_PREFIX}{event_id}"


def waiting_room_actor_name(event_id: str) -> str:
    return f"{WAITING_ROOM_PREFIX}{event_id}"


def event_of_actor(name: str) -> str | None:
    """The event whose actor is named `name`; None for an actor of the whole cluster."""
    for prefix in (INVENTORY_PREFIX, WAITING_ROOM_PREFIX):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def local_chain_name(directory: str) -> str:
    """The embedded chain keeping its accounts in `directory`: two systems on one Ray cluster
    (a test run's, say) never share a chain by accident."""
    return f"solana_local_chain:{_digest(directory)}"


def mint_worker_name(database_url: str, index: int) -> str:
    """Worker `index` of the mint pool of the system whose database is `database_url`."""
    return f"mint_worker:{_digest(database_url)}:{index}"


def notification_worker_name(database_url: str, index: int) -> str:
    return f"notification_worker:{_digest(database_url)}:{index}"


def payment_worker_name(database_url: str, index: int) -> str:
    return f"payment_worker:{_digest(database_url)}:{index}"
