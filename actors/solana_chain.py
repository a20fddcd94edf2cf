"""The embedded chain as the mint workers reach it: the cluster's one LocalChain actor behind the
`ChainBackend` interface, so a worker in any process sends to the same chain.

It holds only the actor's name, so it travels to a worker as a constructor argument and finds the
actor on first use; a Ray failure or a call past its timeout is a `ChainError` like any other.
"""

import asyncio
from collections.abc import Sequence
from typing import Any

import ray
from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.rent import Rent
from solders.transaction import Transaction

from actors.names import NAMESPACE
from engine import limits
from minting.chain import ChainError, SentTransaction
from minting.local_chain import LocalChain


class ActorChain:
    def __init__(self, name: str, namespace: str = NAMESPACE) -> None:
        self._name = name
        self._namespace = namespace
        self._handle: ray.actor.ActorHandle[LocalChain] | None = None

    async def _call(self, method: str, *arguments: object) -> Any:
        try:
            if self._handle is None:
                self._handle = ray.get_actor(self._name, namespace=self._namespace)
            async with asyncio.timeout(limits.CHAIN_CALL_TIMEOUT_MS / 1_000):
                return await getattr(self._handle, method).remote(*arguments)
        except (ray.exceptions.RayError, ValueError, TimeoutError) as error:
            self._handle = None
            raise ChainError(f"the local chain actor failed: {error!r}") from error

    async def latest_blockhash(self) -> Hash:
        blockhash: Hash = await self._call("latest_blockhash")
        return blockhash

    async def rent(self) -> Rent:
        rent: Rent = await self._call("rent")
        return rent

    async def get_accounts(self, addresses: Sequence[Pubkey]) -> list[Account | None]:
        accounts: list[Account | None] = await self._call("get_accounts", list(addresses))
        return accounts

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        sent: list[SentTransaction] = await self._call("send_transactions", list(transactions))
        return sent

    async def creation_signatures(self, addresses: Sequence[Pubkey]) -> list[str | None]:
        signatures: list[str | None] = await self._call("creation_signatures", list(addresses))
        return signatures
