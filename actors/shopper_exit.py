"""Frees the waiting-room slot of a fan whose order is confirmed.

An admitted fan counts against the event's `max_active_shoppers` until their access ends. A fan
who has paid has finished shopping, so the `order_confirmed` notice ends their access at once
instead of after `access_ttl_s`, and the room admits the next fan in their place. Ending an
access twice changes nothing, so the outbox may deliver a notice again; an event without a
waiting room, or whose room has retired (nobody was in it), has no slot to free. An order's
`user_id` is the fan as the waiting room names them: the caller of their token,
`<tenant id>/<user id>`.
"""

import collections

import ray

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.lifecycle import ActorRetired
from actors.names import NAMESPACE, waiting_room_actor_name
from actors.outbox_dispatcher import Consumer
from engine import limits
from engine.rejections import Rejected
from notifications.notices import decode_notice
from persistence.outbox import OutboxMessage


async def end_access(event_id: str, fan_ids: list[str]) -> str | None:
    """End these fans' access to the event's room: None, or why it could not be done yet."""
    try:
        room = ray.get_actor(waiting_room_actor_name(event_id), namespace=NAMESPACE)
    except ValueError:
        return None
    for start in range(0, len(fan_ids), limits.FANS_PER_END_ACCESS_COMMAND_MAX):
        chunk = fan_ids[start : start + limits.FANS_PER_END_ACCESS_COMMAND_MAX]
        try:
            answer: Rejected | None = await actor_answer(
                room.end_access.remote(chunk),
                timeout_s=limits.END_ACCESS_CALL_TIMEOUT_MS / 1_000,
            )
        except ActorRetired:
            return None
        except ACTOR_CALL_ERRORS as error:
            return f"the waiting room did not answer: {error}"
        if isinstance(answer, Rejected):
            return answer.message
    return None


def shopper_exit_consumer() -> Consumer:
    """The outbox consumer of `order_confirmed` notices that ends their fans' access."""

    async def deliver(messages: list[OutboxMessage]) -> list[str | None]:
        positions_by_event: dict[str, list[int]] = collections.defaultdict(list)
        fans_by_event: dict[str, set[str]] = collections.defaultdict(set)
        for position, message in enumerate(messages):
            notice = decode_notice(message.payload)
            if notice.resend_id is not None:
                continue  # a confirmation sent again; the purchase ended the access long ago
            event_id = str(notice.event_id)
            positions_by_event[event_id].append(position)
            fans_by_event[event_id].add(notice.user_id)
        results: list[str | None] = [None] * len(messages)
        for event_id, positions in positions_by_event.items():
            problem = await end_access(event_id, sorted(fans_by_event[event_id]))
            for position in positions:
                results[position] = problem
        return results

    return deliver
