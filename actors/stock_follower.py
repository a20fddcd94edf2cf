"""How a WaitingRoomActor learns what its event has left: it asks the event's InventoryActor, if
one is running, every tick (`engine.stock`). It never starts one: an inventory that is not running
has changed nothing since it last answered, so the room keeps the stock it recorded then.
"""

import ray
from ray.actor import ActorHandle

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.inventory_actor import InventoryActor
from actors.lifecycle import ActorRetired
from actors.names import NAMESPACE, inventory_actor_name
from engine import limits
from engine.limits import MILLISECONDS_PER_SECOND
from engine.stock import Stock


class StockFollower:
    """The running InventoryActor of one event, found by name and asked for its stock."""

    def __init__(self, event_id: str) -> None:
        self._event_id = event_id
        self._inventory: ActorHandle[InventoryActor] | None = None

    async def current(self) -> Stock | None:
        """The event's stock as its running inventory has it; None when no inventory answers."""
        inventory = self._running_inventory()
        if inventory is None:
            return None
        try:
            stock: Stock | None = await actor_answer(
                inventory.stock.remote(),
                timeout_s=limits.STOCK_CALL_TIMEOUT_MS / MILLISECONDS_PER_SECOND,
            )
        except (*ACTOR_CALL_ERRORS, ActorRetired):
            self._inventory = None
            return None
        return stock

    def _running_inventory(self) -> ActorHandle[InventoryActor] | None:
        if self._inventory is None:
            try:
                self._inventory = ray.get_actor(inventory_actor_name(self._event_id), NAMESPACE)
            except ValueError:
                return None
        return self._inventory
