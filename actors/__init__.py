"""Ray actors: per-event inventory and waiting room, the outbox dispatcher and the workers.

The gateway reaches this package only through its facades: the event clients
(`actors.inventory_client`, `actors.waiting_room_client`), the cluster's start-up
(`actors.cluster`) and the records they answer with; tests/test_architecture.py names them.
"""
