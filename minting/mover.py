"""Moving ticket NFTs to the wallet of whoever holds their ticket now: read the chain first, then
send only what has not moved yet.

A move is done once the recipient's token account holds the NFT, even when the worker that sent it
died before it could say so, or when the NFT was minted straight to the recipient: it is recorded
with the signature that created that account, when the chain knows it. While the custodial wallet
of one of the ticket's holders has the NFT, one transaction moves it (the mint authority pays, the
holder's derived key signs). An NFT in any other wallet is an operator's question, never a guess:
the move fails for good.
"""

import uuid
from collections.abc import Sequence

import msgspec
from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.constants import TOKEN_2022_PROGRAM_ID

from engine import limits
from minting.chain import ChainBackend, ChainError
from minting.custody import Custody
from minting.token_2022 import unpack_token_account
from minting.transactions import NFT_SUPPLY, holder_account_address, transfer_ticket_transaction

assert limits.TRANSFERS_PER_CHAIN_BATCH_MAX <= limits.MINTS_PER_CHAIN_BATCH_MAX, (
    "a chain takes at most MINTS_PER_CHAIN_BATCH_MAX transactions per call"
)


class MoveOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One NFT to move from the wallet recorded as holding it to the recipient's; `signers` are
    the fans of `tenant_id` whose custodial wallets may be that holder."""

    transfer_id: uuid.UUID
    mint_address: str
    holder_address: str
    tenant_id: uuid.UUID
    signers: tuple[str, ...]
    recipient_address: str


class Moved(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    transfer_id: uuid.UUID
    from_address: str
    to_address: str
    signature: str | None


class MoveFailed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """`is_final` when no retry can help: the NFT is somewhere we cannot sign for."""

    transfer_id: uuid.UUID
    error: str
    is_final: bool


MoveOutcome = Moved | MoveFailed


class _Planned(msgspec.Struct, frozen=True, kw_only=True):
    """`holder` is the key of the wallet holding the NFT, None when the platform has none."""

    order: MoveOrder
    holder: Keypair | None
    mint: Pubkey
    recipient: Pubkey
    holder_account: Pubkey
    recipient_account: Pubkey


def holds_the_nft(account: Account | None) -> bool:
    if account is None or account.owner != TOKEN_2022_PROGRAM_ID:
        return False
    try:
        return unpack_token_account(bytes(account.data)).amount == NFT_SUPPLY
    except ValueError:
        return False


class TicketMover:
    def __init__(self, *, chain: ChainBackend, authority: Keypair, custody: Custody) -> None:
        self._chain = chain
        self._authority = authority
        self._custody = custody

    async def move(self, orders: Sequence[MoveOrder]) -> list[MoveOutcome]:
        """One outcome per order, in order; the chain is called in bounded chunks."""
        outcomes: list[MoveOutcome] = []
        for start in range(0, len(orders), limits.TRANSFERS_PER_CHAIN_BATCH_MAX):
            chunk = orders[start : start + limits.TRANSFERS_PER_CHAIN_BATCH_MAX]
            try:
                outcomes.extend(await self._move_chunk(chunk))
            except ChainError as error:
                outcomes.extend(
                    MoveFailed(transfer_id=order.transfer_id, error=str(error), is_final=False)
                    for order in chunk
                )
        return outcomes

    def _plan(self, order: MoveOrder) -> _Planned:
        holder = next(
            (
                keypair
                for keypair in (
                    self._custody.fan_keypair(order.tenant_id, user_id) for user_id in order.signers
                )
                if str(keypair.pubkey()) == order.holder_address
            ),
            None,
        )
        mint = Pubkey.from_string(order.mint_address)
        recipient = Pubkey.from_string(order.recipient_address)
        return _Planned(
            order=order,
            holder=holder,
            mint=mint,
            recipient=recipient,
            holder_account=holder_account_address(Pubkey.from_string(order.holder_address), mint),
            recipient_account=holder_account_address(recipient, mint),
        )

    async def _move_chunk(self, orders: Sequence[MoveOrder]) -> list[MoveOutcome]:
        outcomes: dict[uuid.UUID, MoveOutcome] = {}
        plans = [self._plan(order) for order in orders]
        accounts = await self._chain.get_accounts(
            [address for plan in plans for address in (plan.holder_account, plan.recipient_account)]
        )
        arrived: list[_Planned] = []
        to_send: list[tuple[_Planned, Keypair]] = []
        for index, plan in enumerate(plans):
            if holds_the_nft(accounts[2 * index + 1]):
                arrived.append(plan)
            elif holds_the_nft(accounts[2 * index]) and plan.holder is not None:
                to_send.append((plan, plan.holder))
            else:
                outcomes[plan.order.transfer_id] = MoveFailed(
                    transfer_id=plan.order.transfer_id,
                    error=(
                        "the NFT is in a wallet the platform cannot sign for"
                        if holds_the_nft(accounts[2 * index])
                        else "the NFT is in neither its holder's nor the recipient's wallet"
                    ),
                    is_final=True,
                )
        if arrived:
            signatures = await self._chain.creation_signatures(
                [plan.recipient_account for plan in arrived]
            )
            for plan, signature in zip(arrived, signatures, strict=True):
                outcomes[plan.order.transfer_id] = self._moved(plan, signature)
        if to_send:
            blockhash = await self._chain.latest_blockhash()
            sent = await self._chain.send_transactions(
                [
                    transfer_ticket_transaction(
                        payer=self._authority,
                        holder=holder,
                        recipient=plan.recipient,
                        mint=plan.mint,
                        blockhash=blockhash,
                    )
                    for plan, holder in to_send
                ]
            )
            for (plan, _), result in zip(to_send, sent, strict=True):
                outcomes[plan.order.transfer_id] = (
                    self._moved(plan, result.signature)
                    if result.error is None
                    else MoveFailed(
                        transfer_id=plan.order.transfer_id, error=result.error, is_final=False
                    )
                )
        return [outcomes[order.transfer_id] for order in orders]

    @staticmethod
    def _moved(plan: _Planned, signature: str | None) -> Moved:
        return Moved(
            transfer_id=plan.order.transfer_id,
            from_address=plan.order.holder_address,
            to_address=str(plan.recipient),
            signature=signature,
        )
