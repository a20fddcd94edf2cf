"""Marking ticket NFTs void on chain: the NFT of a refunded ticket gets the metadata field
`status` = `void`, written by the metadata's update authority (the mint authority, which signs
every NFT), wherever the NFT sits.

An NFT is marked, not burned: burning needs its holder's signature, which the platform has for
custodial wallets only, never for a fan's own wallet, and a burn would erase the record of the
sale. The chain is read first, so an NFT already marked is not marked twice; the extra rent the
longer metadata needs is paid to the mint account in the same transaction.
"""

import uuid
from collections.abc import Sequence

import msgspec
from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.rent import Rent
from spl.token.constants import TOKEN_2022_PROGRAM_ID

from engine import limits
from minting.chain import ChainBackend, ChainError
from minting.token_2022 import pack_token_metadata, unpack_mint
from minting.transactions import void_ticket_transaction

VOID_FIELD = "status"
VOID_VALUE = "void"


class VoidOrder(msgspec.Struct, frozen=True, kw_only=True):
    ticket_id: uuid.UUID
    mint_address: str


class Voided(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """`signature` is None when the NFT was marked already."""

    ticket_id: uuid.UUID
    signature: str | None


class VoidFailed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    ticket_id: uuid.UUID
    error: str


VoidOutcome = Voided | VoidFailed


def extra_rent_lamports(account: Account, rent: Rent) -> int | None:
    """What the mint account needs to stay rent-exempt once marked; None when already void."""
    metadata = unpack_mint(bytes(account.data)).metadata
    assert metadata is not None, "every ticket NFT carries its metadata"
    fields = dict(metadata.additional_metadata)
    if fields.get(VOID_FIELD) == VOID_VALUE:
        return None
    marked = msgspec.structs.replace(
        metadata,
        additional_metadata=tuple((fields | {VOID_FIELD: VOID_VALUE}).items()),
    )
    growth = len(pack_token_metadata(marked)) - len(pack_token_metadata(metadata))
    needed = rent.minimum_balance(len(account.data) + max(growth, 0))
    return max(needed - account.lamports, 0)


class TicketVoider:
    def __init__(self, *, chain: ChainBackend, authority: Keypair) -> None:
        self._chain = chain
        self._authority = authority

    async def void(self, orders: Sequence[VoidOrder]) -> list[VoidOutcome]:
        """One outcome per order, in order; the chain is called in bounded chunks."""
        outcomes: list[VoidOutcome] = []
        for start in range(0, len(orders), limits.MINTS_PER_CHAIN_BATCH_MAX):
            chunk = orders[start : start + limits.MINTS_PER_CHAIN_BATCH_MAX]
            try:
                outcomes.extend(await self._void_chunk(chunk))
            except ChainError as error:
                outcomes.extend(
                    VoidFailed(ticket_id=order.ticket_id, error=str(error)) for order in chunk
                )
        return outcomes

    async def _void_chunk(self, orders: Sequence[VoidOrder]) -> list[VoidOutcome]:
        mints = [Pubkey.from_string(order.mint_address) for order in orders]
        accounts = await self._chain.get_accounts(mints)
        rent = await self._chain.rent()
        outcomes: dict[uuid.UUID, VoidOutcome] = {}
        to_send: list[tuple[VoidOrder, Pubkey, int]] = []
        for order, mint, account in zip(orders, mints, accounts, strict=True):
            if account is None or account.owner != TOKEN_2022_PROGRAM_ID:
                outcomes[order.ticket_id] = VoidFailed(
                    ticket_id=order.ticket_id, error="no NFT at this mint address"
                )
                continue
            lamports = extra_rent_lamports(account, rent)
            if lamports is None:
                outcomes[order.ticket_id] = Voided(ticket_id=order.ticket_id, signature=None)
            else:
                to_send.append((order, mint, lamports))
        if to_send:
            blockhash = await self._chain.latest_blockhash()
            sent = await self._chain.send_transactions(
                [
                    void_ticket_transaction(
                        authority=self._authority,
                        mint=mint,
                        extra_lamports=lamports,
                        key=VOID_FIELD,
                        value=VOID_VALUE,
                        blockhash=blockhash,
                    )
                    for _, mint, lamports in to_send
                ]
            )
            for (order, _, _), result in zip(to_send, sent, strict=True):
                outcomes[order.ticket_id] = (
                    Voided(ticket_id=order.ticket_id, signature=result.signature)
                    if result.error is None
                    else VoidFailed(ticket_id=order.ticket_id, error=result.error)
                )
        return [outcomes[order.ticket_id] for order in orders]
