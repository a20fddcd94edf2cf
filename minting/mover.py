"""Moving ticket NFTs from the giver's custodial wallet to the recipient's: read the chain first,
then send only what has not moved yet.

A move is done once the recipient's token account holds the NFT, even when the worker that sent it
died before it could say so: it is recorded with the signature that created that account, when the
chain knows it. While the giver's custodial wallet holds the NFT, one transaction moves it (the
mint authority pays, the giver's derived key signs). An NFT in any other wallet is an operator's
question, never a guess: the move fails for good.
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
    """One NFT to move: from the wallet that holds it, the giver's, to the recipient's."""

    transfer_id: uuid.UUID
    mint_address: str
    holder_address: str
    giver_tenant_id: uuid.UUID
    giver_user_id: str
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
    order: MoveOrder
    giver: Keypair
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

    def _plan(self, order: MoveOrder) -> _Planned | MoveFailed:
        giver = self._custody.fan_keypair(order.giver_tenant_id, order.giver_user_id)
        if str(giver.pubkey()) != order.holder_address:
            return MoveFailed(
                transfer_id=order.transfer_id,
                error="the NFT is not in the giver's custodial wallet, so it cannot be signed for",
                is_final=True,
            )
        mint = Pubkey.from_string(order.mint_address)
        recipient = Pubkey.from_string(order.recipient_address)
        return _Planned(
            order=order,
            giver=giver,
            mint=mint,
            recipient=recipient,
            holder_account=holder_account_address(giver.pubkey(), mint),
            recipient_account=holder_account_address(recipient, mint),
        )

    async def _move_chunk(self, orders: Sequence[MoveOrder]) -> list[MoveOutcome]:
        outcomes: dict[uuid.UUID, MoveOutcome] = {}
        plans: list[_Planned] = []
        for order in orders:
            plan = self._plan(order)
            if isinstance(plan, MoveFailed):
                outcomes[order.transfer_id] = plan
            else:
                plans.append(plan)
        accounts = await self._chain.get_accounts(
            [address for plan in plans for address in (plan.holder_account, plan.recipient_account)]
        )
        arrived: list[_Planned] = []
        to_send: list[_Planned] = []
        for index, plan in enumerate(plans):
            if holds_the_nft(accounts[2 * index + 1]):
                arrived.append(plan)
            elif holds_the_nft(accounts[2 * index]):
                to_send.append(plan)
            else:
                outcomes[plan.order.transfer_id] = MoveFailed(
                    transfer_id=plan.order.transfer_id,
                    error="the NFT is in neither the giver's nor the recipient's wallet",
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
                        holder=plan.giver,
                        recipient=plan.recipient,
                        mint=plan.mint,
                        blockhash=blockhash,
                    )
                    for plan in to_send
                ]
            )
            for plan, result in zip(to_send, sent, strict=True):
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
