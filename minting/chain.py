"""The one interface minting has to a Solana chain, whichever it is: a cluster over RPC
(`RpcChain`) or the embedded LiteSVM (`LocalChain`, alone or inside its Ray actor).

Every method is batched, since minting works on batches of tickets, and every failure to reach
the chain or to read its answer is a `ChainError`; a transaction the chain refused is not an
error of the call but a `SentTransaction` with its reason.
"""

from collections.abc import Sequence
from typing import Protocol

import msgspec
from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.rent import Rent
from solders.transaction import Transaction


class ChainError(Exception):
    """The chain could not be reached or answered something unreadable; the call may be retried."""


class SentTransaction(msgspec.Struct, frozen=True, kw_only=True):
    """A transaction the chain confirmed (`error` None) or refused (`error` says why)."""

    signature: str
    error: str | None = None


class ChainBackend(Protocol):
    async def latest_blockhash(self) -> Hash: ...

    async def rent(self) -> Rent: ...

    async def get_accounts(self, addresses: Sequence[Pubkey]) -> list[Account | None]:
        """Each address's account, None where there is none."""
        ...

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        """Send each signed transaction and wait until it is confirmed or refused."""
        ...

    async def creation_signatures(self, addresses: Sequence[Pubkey]) -> list[str | None]:
        """The signature of the transaction that created each account, None if unknown."""
        ...
