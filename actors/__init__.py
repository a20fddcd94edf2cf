"""Ray actors: per-event inventory and waiting room, the outbox dispatcher and the workers.

The gateway reaches this package only through `actors.clients`, the typed facade.
"""
