"""One batching client per event and actor, shared by every request of this process.

Sharing is the point: concurrent requests for one event meet in one client and leave as one batch
(DESIGN.md rule 2). Clients are created on first use and live as long as the process, and each
request's wait in them ends at its deadline.
"""

import uuid

from actors.inventory_client import InventoryClient
from actors.waiting_room_client import WaitingRoomClient
from gateway.deadlines import current_deadline_s


class EventClients:
    def __init__(self, *, database_url: str, redis_url: str, access_secret: bytes) -> None:
        self._database_url = database_url
        self._redis_url = redis_url
        self._access_secret = access_secret
        self._inventories: dict[uuid.UUID, InventoryClient] = {}
        self._waiting_rooms: dict[uuid.UUID, WaitingRoomClient] = {}

    def inventory(self, event_id: uuid.UUID) -> InventoryClient:
        client = self._inventories.get(event_id)
        if client is None:
            client = self._inventories[event_id] = InventoryClient(
                str(event_id), self._database_url, deadline_s=current_deadline_s
            )
        return client

    def waiting_room(self, event_id: uuid.UUID) -> WaitingRoomClient:
        client = self._waiting_rooms.get(event_id)
        if client is None:
            client = self._waiting_rooms[event_id] = WaitingRoomClient(
                str(event_id),
                self._database_url,
                self._redis_url,
                self._access_secret,
                deadline_s=current_deadline_s,
            )
        return client
