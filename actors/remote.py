"""The only place `ray.remote` is applied to the actors the clients and the Supervisor start: each
class is made remote once, at import, and every handle to one of its actors comes from a function
here that names and places it (`actors.placement`). The Supervisor, which starts these, is made
remote by the cluster's start-up (`actors.cluster`), above this module.
"""

from collections.abc import Callable

import ray
from ray.actor import ActorHandle

from actors.inventory_actor import InventoryActor
from actors.mint_worker import MintWorker
from actors.names import (
    inventory_actor_name,
    local_chain_name,
    mint_worker_name,
    notification_worker_name,
    payment_worker_name,
    waiting_room_actor_name,
)
from actors.notification_worker import NotificationWorker
from actors.payment_worker import PaymentWorker
from actors.placement import handle_of, named_detached, on_local_chain_host, per_event
from actors.waiting_room_actor import WaitingRoomActor
from actors.wall_clock import wall_clock_ms
from engine import limits
from minting.chain import ChainBackend
from minting.local_chain import LocalChain
from services.settlement_parts import InventoryCommands

RemoteInventoryActor = ray.remote(InventoryActor)
RemoteWaitingRoomActor = ray.remote(WaitingRoomActor)
RemoteLocalChain = ray.remote(LocalChain)
RemoteMintWorker = ray.remote(MintWorker)
RemoteNotificationWorker = ray.remote(NotificationWorker)
RemotePaymentWorker = ray.remote(PaymentWorker)
# A mint worker's deliveries overlap only when the dispatcher gave up waiting on one; more would
# only queue on its two connections.
MINT_WORKER_CONCURRENCY_MAX = 4


def inventory_actor(
    event_id: str, database_url: str, clock: Callable[[], int] = wall_clock_ms
) -> ActorHandle[InventoryActor]:
    """The event's InventoryActor, created on first use and found by name afterwards."""
    return handle_of(
        RemoteInventoryActor.options(**per_event(inventory_actor_name(event_id))).remote(
            event_id=event_id, database_url=database_url, clock=clock
        )
    )


def waiting_room_actor(
    event_id: str,
    database_url: str,
    redis_url: str,
    access_secret: bytes,
    clock: Callable[[], int] = wall_clock_ms,
) -> ActorHandle[WaitingRoomActor]:
    """The event's WaitingRoomActor, created on first use and found by name afterwards."""
    return handle_of(
        RemoteWaitingRoomActor.options(**per_event(waiting_room_actor_name(event_id))).remote(
            event_id=event_id,
            database_url=database_url,
            redis_url=redis_url,
            access_secret=access_secret,
            clock=clock,
        )
    )


def local_chain(directory: str) -> ActorHandle[LocalChain]:
    """The cluster's one embedded Solana chain, its accounts kept under `directory` (e.g.
    `<data dir>/solana`); created on first use and found by name afterwards.

    Its methods never await, so its calls run one at a time however many are queued; a restart
    reloads the accounts from the directory, on the node that keeps them (`on_local_chain_host`).
    Workers on any node reach it through `actors.solana_chain`.
    """
    return handle_of(
        RemoteLocalChain.options(**on_local_chain_host(local_chain_name(directory))).remote(
            directory=directory
        )
    )


def mint_worker(
    index: int, database_url: str, chain: ChainBackend, authority_key: str, custody_seed: str
) -> ActorHandle[MintWorker]:
    """Mint worker number `index` of the pool, created on first use and found by name afterwards;
    `chain` is an `actors.solana_chain.ActorChain` or a `minting.rpc_chain.RpcChain`."""
    return handle_of(
        RemoteMintWorker.options(
            **named_detached(
                mint_worker_name(database_url, index), max_concurrency=MINT_WORKER_CONCURRENCY_MAX
            )
        ).remote(
            database_url=database_url,
            chain=chain,
            authority_key=authority_key,
            custody_seed=custody_seed,
        )
    )


def notification_worker(
    index: int,
    database_url: str,
    smtp_url: str,
    mail_from: str,
    webhooks_to_private_addresses: bool,
) -> ActorHandle[NotificationWorker]:
    """Notification worker number `index` of the pool, created on first use and found by name
    afterwards."""
    return handle_of(
        RemoteNotificationWorker.options(
            **named_detached(notification_worker_name(database_url, index))
        ).remote(
            database_url=database_url,
            smtp_url=smtp_url,
            mail_from=mail_from,
            webhooks_to_private_addresses=webhooks_to_private_addresses,
        )
    )


def payment_worker(
    index: int,
    database_url: str,
    stripe_api_key: str,
    stripe_api_base: str | None,
    inventory: InventoryCommands,
) -> ActorHandle[PaymentWorker]:
    """Payment worker number `index` of the pool, created on first use and found by name
    afterwards; it runs refunds from the outbox and the gateway at once, up to its limit, and
    applies Stripe's events."""
    return handle_of(
        RemotePaymentWorker.options(
            **named_detached(
                payment_worker_name(database_url, index),
                max_concurrency=limits.PAYMENT_WORKER_REFUNDS_IN_FLIGHT_MAX * 2,
            )
        ).remote(
            database_url=database_url,
            stripe_api_key=stripe_api_key,
            stripe_api_base=stripe_api_base,
            inventory=inventory,
        )
    )
