"""The work the cluster does outside an event's sale: refunding, minting and moving NFTs,
notifying, freeing the shopper slots of fans who bought, and reconciling payments.

The Supervisor starts the workers from `OutsideParts` (where the outside world is, and with which
keys). Each worker kind is a pool of named actors behind one outbox consumer, so each message
reaches one worker.
"""

from actors.inventory_client import ClusterInventories
from actors.names import (
    NAMESPACE,
    local_chain_name,
    mint_worker_name,
    notification_worker_name,
    payment_worker_name,
)
from actors.outbox_dispatcher import Consumer
from actors.outside_parts import OutsideParts
from actors.remote import local_chain, mint_worker, notification_worker, payment_worker
from actors.shopper_exit import shopper_exit_consumer
from actors.solana_chain import ActorChain
from actors.worker_pool import pooled_consumer
from engine import limits
from minting.chain import ChainBackend
from minting.requests import MINT_TOPIC
from minting.rpc_chain import RpcChain
from minting.transfer_requests import TRANSFER_TOPIC
from minting.void_requests import VOID_TOPIC
from notifications.notices import NOTICE_TOPICS, NoticeKind, notice_topic
from payments.refund_messages import REFUND_TOPIC
from persistence.inventory_outbox import SALE_CANCELLED_TOPIC

MINT_WORKERS = 2
NOTIFICATION_WORKERS = 1


def chain_of(outside: OutsideParts) -> ChainBackend:
    """The configured cluster, else the embedded chain (started here if it is not running)."""
    if outside.solana_rpc_url:
        return RpcChain(outside.solana_rpc_url)
    local_chain(outside.solana_directory)
    return ActorChain(local_chain_name(outside.solana_directory))


def start_workers(database_url: str, outside: OutsideParts) -> dict[str, tuple[Consumer, ...]]:
    """Start (or find) every worker actor; the outbox routes of their topics."""
    chain = chain_of(outside)
    for index in range(MINT_WORKERS):
        mint_worker(index, database_url, chain, outside.mint_authority_key, outside.custody_seed)
    for index in range(NOTIFICATION_WORKERS):
        notification_worker(
            index,
            database_url,
            outside.smtp_url,
            outside.mail_from,
            outside.webhooks_to_private_addresses,
        )
    for index in range(limits.PAYMENT_WORKERS):
        payment_worker(
            index,
            database_url,
            outside.stripe_api_key,
            outside.stripe_api_base,
            ClusterInventories(database_url),
        )
    minting = pooled_consumer(
        [mint_worker_name(database_url, i) for i in range(MINT_WORKERS)], NAMESPACE
    )
    notifying = pooled_consumer(
        [notification_worker_name(database_url, i) for i in range(NOTIFICATION_WORKERS)],
        NAMESPACE,
    )
    paying = pooled_consumer(
        [payment_worker_name(database_url, i) for i in range(limits.PAYMENT_WORKERS)], NAMESPACE
    )
    routes: dict[str, tuple[Consumer, ...]] = {
        REFUND_TOPIC: (paying,),
        SALE_CANCELLED_TOPIC: (paying,),
        MINT_TOPIC: (minting,),
        TRANSFER_TOPIC: (minting,),
        VOID_TOPIC: (minting,),
        **{topic: (notifying,) for topic in NOTICE_TOPICS},
    }
    routes[notice_topic(NoticeKind.ORDER_CONFIRMED)] += (shopper_exit_consumer(),)
    return routes
