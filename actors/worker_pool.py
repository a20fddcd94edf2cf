"""One outbox consumer over a pool of worker actors: the dispatcher hands every consumer of a topic
all of its messages, so a pool must be one consumer that gives each message to exactly one worker.

A message goes to the worker its aggregate id hashes to, so one ticket's messages always meet the
same worker; a worker that fails answers its error for its share of the batch only.
"""

import asyncio
import zlib
from collections.abc import Sequence

import ray

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.outbox_dispatcher import Consumer
from engine import limits
from persistence.outbox import OutboxMessage


def pooled_consumer(actor_names: Sequence[str], namespace: str) -> Consumer:
    """A consumer that spreads each batch over the named actors with `deliver(messages)`."""
    assert actor_names, "a pool has at least one worker"
    names = tuple(actor_names)

    async def deliver(messages: list[OutboxMessage]) -> list[str | None]:
        shares: list[list[int]] = [[] for _ in names]
        for index, message in enumerate(messages):
            shares[zlib.crc32(message.aggregate_id.encode()) % len(names)].append(index)
        answers: list[str | None] = [None] * len(messages)

        async def deliver_share(name: str, indexes: list[int]) -> None:
            try:
                handle = ray.get_actor(name, namespace=namespace)
                share: list[str | None] = await actor_answer(
                    handle.deliver.remote([messages[index] for index in indexes]),
                    timeout_s=limits.OUTBOX_DELIVERY_TIMEOUT_MS / 1_000,
                )
            except (ray.exceptions.RayError, ValueError, *ACTOR_CALL_ERRORS) as error:
                share = [f"worker {name} failed: {error!r}"] * len(indexes)
            for index, answer in zip(indexes, share, strict=True):
                answers[index] = answer

        await asyncio.gather(
            *(
                deliver_share(name, indexes)
                for name, indexes in zip(names, shares, strict=True)
                if indexes
            )
        )
        return answers

    return deliver
