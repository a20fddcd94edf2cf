"""A Solana cluster over JSON-RPC (`SOLANA_RPC_URL`), through solana-py's AsyncClient.

Every call has a timeout, and every failure to reach the node is a `ChainError`. Transactions are
sent with preflight (a refusal comes back at once, with its reason) and then confirmed together:
their statuses are polled in batches until each is confirmed, refused, past its blockhash's last
valid block height, or out of time. A transaction that was neither is reported unconfirmed; it may
still land, which is why minting reads the chain before it sends again.
"""

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException, RPCNoResultException
from solana.rpc.models import TxOpts
from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.rent import Rent
from solders.signature import Signature
from solders.sysvar import RENT
from solders.transaction import Transaction
from solders.transaction_status import TransactionConfirmationStatus

from engine import limits
from minting.chain import ChainError, SentTransaction

Answer = TypeVar("Answer")
CLIENT_ERRORS = (SolanaRpcException, RPCException, RPCNoResultException, TimeoutError, ValueError)
CONFIRMED_STATUSES = (
    TransactionConfirmationStatus.Confirmed,
    TransactionConfirmationStatus.Finalized,
)
BLOCKHASHES_REMEMBERED_MAX = 16
SEND_OPTIONS = TxOpts(skip_confirmation=True, skip_preflight=False, preflight_commitment=Confirmed)


def _chunks(items: Sequence[Answer], size: int) -> list[Sequence[Answer]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def refusal_reason(error: ChainError) -> str:
    """A failed preflight's message and the last line the programs logged; else the error."""
    cause = error.__cause__
    answer = cause.args[0] if isinstance(cause, RPCException) and cause.args else None
    message = getattr(answer, "message", None)
    if message is None:
        return str(error)
    logs = getattr(getattr(answer, "data", None), "logs", None)
    return f"{message} ({logs[-1]})" if logs else str(message)


class RpcChain:
    def __init__(self, url: str) -> None:
        self._url = url
        self._client: AsyncClient | None = None
        self._last_valid_heights: dict[Hash, int] = {}

    def _connected(self) -> AsyncClient:
        """The client, made on first use: it must be made on the loop that will use it."""
        if self._client is None:
            self._client = AsyncClient(
                self._url, commitment=Confirmed, timeout=limits.CHAIN_CALL_TIMEOUT_MS / 1_000
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _call(self, request: Awaitable[Answer]) -> Answer:
        try:
            async with asyncio.timeout(limits.CHAIN_CALL_TIMEOUT_MS / 1_000):
                return await request
        except CLIENT_ERRORS as error:
            raise ChainError(f"the Solana RPC at {self._url} failed: {error!r}") from error

    async def latest_blockhash(self) -> Hash:
        answer = await self._call(self._connected().get_latest_blockhash(Confirmed))
        blockhash = answer.value.blockhash
        self._last_valid_heights[blockhash] = answer.value.last_valid_block_height
        while len(self._last_valid_heights) > BLOCKHASHES_REMEMBERED_MAX:
            del self._last_valid_heights[next(iter(self._last_valid_heights))]
        return blockhash

    async def rent(self) -> Rent:
        (account,) = await self.get_accounts([RENT])
        if account is None:
            raise ChainError("the cluster has no rent sysvar")
        return Rent.from_bytes(bytes(account.data))

    async def get_accounts(self, addresses: Sequence[Pubkey]) -> list[Account | None]:
        accounts: list[Account | None] = []
        for chunk in _chunks(addresses, limits.CHAIN_ACCOUNTS_PER_READ_MAX):
            answer = await self._call(self._connected().get_multiple_accounts(list(chunk)))
            accounts.extend(answer.value)
        return accounts

    async def creation_signatures(self, addresses: Sequence[Pubkey]) -> list[str | None]:
        """The oldest successful transaction naming each address: the one that created it."""
        found: list[str | None] = []
        for address in addresses:
            answer = await self._call(
                self._connected().get_signatures_for_address(
                    address, limit=limits.CHAIN_SIGNATURES_PER_ADDRESS_READ_MAX
                )
            )
            successful = [entry for entry in answer.value if entry.err is None]
            found.append(str(successful[-1].signature) if successful else None)
        return found

    async def send_transactions(self, transactions: Sequence[Transaction]) -> list[SentTransaction]:
        in_flight = asyncio.Semaphore(limits.CHAIN_SENDS_IN_FLIGHT_MAX)

        async def send(transaction: Transaction) -> str | None:
            async with in_flight:
                try:
                    await self._call(
                        self._connected().send_raw_transaction(bytes(transaction), SEND_OPTIONS)
                    )
                except ChainError as error:
                    return refusal_reason(error)
                return None

        refusals = await asyncio.gather(*(send(transaction) for transaction in transactions))
        outcomes: dict[Signature, str | None] = {}
        waiting: dict[Signature, Hash] = {}
        for transaction, refusal in zip(transactions, refusals, strict=True):
            signature = transaction.signatures[0]
            outcomes[signature] = refusal
            if refusal is None:
                waiting[signature] = transaction.message.recent_blockhash
        await self._confirm(waiting, outcomes)
        return [
            SentTransaction(signature=str(signature), error=error)
            for signature, error in outcomes.items()
        ]

    async def _confirm(
        self, waiting: dict[Signature, Hash], outcomes: dict[Signature, str | None]
    ) -> None:
        """Settle every waiting signature's outcome in `outcomes`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limits.CHAIN_CONFIRMATION_TIMEOUT_MS / 1_000
        while waiting:
            signatures = list(waiting)
            for chunk in _chunks(signatures, limits.CHAIN_SIGNATURES_PER_STATUS_READ_MAX):
                answer = await self._call(self._connected().get_signature_statuses(list(chunk)))
                for signature, status in zip(chunk, answer.value, strict=True):
                    if status is None:
                        continue
                    if status.err is not None:
                        outcomes[signature] = f"the transaction failed: {status.err}"
                        del waiting[signature]
                    elif status.confirmation_status in CONFIRMED_STATUSES:
                        del waiting[signature]
            if not waiting:
                return
            height = (await self._call(self._connected().get_block_height(Confirmed))).value
            for signature, blockhash in list(waiting.items()):
                last_valid = self._last_valid_heights.get(blockhash)
                if last_valid is not None and height > last_valid:
                    outcomes[signature] = "the transaction expired unconfirmed"
                    del waiting[signature]
            if loop.time() >= deadline:
                for signature in waiting:
                    outcomes[signature] = (
                        "the transaction was not confirmed within "
                        f"{limits.CHAIN_CONFIRMATION_TIMEOUT_MS} ms"
                    )
                return
            await asyncio.sleep(limits.CHAIN_CONFIRMATION_POLL_INTERVAL_MS / 1_000)
