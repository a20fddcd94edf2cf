"""How per-event actors are found: one Ray namespace and one name per actor kind and event."""

NAMESPACE = "onsale"
SUPERVISOR_NAME = "supervisor"


def inventory_actor_name(event_id: str) -> str:
    return f"inventory:{event_id}"


def waiting_room_actor_name(event_id: str) -> str:
    return f"waiting_room:{event_id}"
