"""An event's entry policy and its ticket types' zones as the venue sets them: at creation and by
PATCH (the whole `entry` replaced, zones of types by key), checked by engine.entry.policy with
errors naming the body's field.

A PATCH may not leave a ticket type naming a zone the event no longer has: the policy that
removes it must move the type in the same body. Pure: gateway/routes/venue.py writes the change.
"""

import msgspec

from engine.entry.policy import (
    EntryPolicy,
    Reentry,
    Zone,
    ticket_type_zone_problem,
    validate_entry_policy,
)
from engine.ids import ZoneId
from engine.limits import MILLISECONDS_PER_SECOND
from gateway.errors import rejection_error
from gateway.event_schemas import CreateEventBody, EntryBody, PatchEventBody
from gateway.exchange import invalid
from gateway.ticket_type_sales import ticket_type_field
from persistence.event_details import EventDetails

ENTRY_ZONES = "entry.zones"


class EntryChange(msgspec.Struct, frozen=True, kw_only=True):
    """A checked PATCH's entry: the new policy (None: as it is) and new zones of types by key."""

    policy: EntryPolicy | None = None
    zones: dict[str, ZoneId | None] = msgspec.field(default_factory=dict)


def entry_policy_of(body: EntryBody) -> EntryPolicy:
    """The engine's policy of the body, or VALIDATION_ERROR naming the first field at fault."""
    policy = EntryPolicy(
        zones=tuple(Zone(zone_id=zone.id, includes=tuple(zone.includes)) for zone in body.zones),
        reentry=Reentry(
            enabled=body.reentry.enabled,
            cooldown_ms=body.reentry.cooldown_s * MILLISECONDS_PER_SECOND,
            max_reentries=body.reentry.max_reentries,
        ),
    )
    rejected = validate_entry_policy(policy)
    if rejected is not None:
        raise rejection_error(rejected)
    return policy


def creation_entry_policy(body: CreateEventBody) -> EntryPolicy:
    """The new event's policy, each ticket type's zone checked against it."""
    policy = EntryPolicy() if body.entry is None else entry_policy_of(body.entry)
    for position, ticket_type in enumerate(body.ticket_types):
        problem = ticket_type_zone_problem(policy, ticket_type.zone)
        if problem is not None:
            raise invalid(problem, field=ticket_type_field(position, "zone"), key=ticket_type.key)
    return policy


def entry_change(body: PatchEventBody, details: EventDetails) -> EntryChange:
    """What the PATCH changes of the door, checked against the event as it is."""
    policy = details.entry if body.entry is None else entry_policy_of(body.entry)
    zones: dict[str, ZoneId | None] = {}
    for position, ticket_type in enumerate(body.ticket_types or []):
        zone = ticket_type.zone
        if isinstance(zone, msgspec.UnsetType):
            continue
        problem = ticket_type_zone_problem(policy, zone)
        if problem is not None:
            raise invalid(problem, field=ticket_type_field(position, "zone"), key=ticket_type.key)
        zones[ticket_type.key] = zone
    if body.entry is not None:
        for ticket_type in details.ticket_types:
            zone = zones.get(ticket_type.key, ticket_type.zone)
            if ticket_type_zone_problem(policy, zone) is not None:
                raise invalid(
                    f"ticket type {ticket_type.key!r} still enters zone {zone!r}, which this "
                    "entry policy removes; give the type another zone in the same request",
                    field=ENTRY_ZONES,
                    key=ticket_type.key,
                )
    return EntryChange(policy=None if body.entry is None else policy, zones=zones)
