"""Minting a batch of tickets: read the chain first, then send only what is not there yet.

A ticket's mint address is a function of the ticket (`Custody.mint_keypair`), so the chain itself
says whether an earlier attempt landed, even one whose worker died before it could record it: a
complete NFT (supply 1, held by the owner or by an earlier holder of its ticket, no mint authority
left) is recorded with the signature that created it and the wallet that holds it, an absent one
is minted to the owner, and anything else at that address is an error for an operator, never a
second mint. An NFT found with an earlier holder is moved on by the ticket's transfers.
"""

import enum
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
from minting.custody import Custody
from minting.requests import MintRequest
from minting.ticket_nft import describe_ticket
from minting.token_2022 import unpack_mint, unpack_token_account
from minting.transactions import (
    NFT_DECIMALS,
    NFT_SUPPLY,
    holder_account_address,
    mint_ticket_transaction,
)


class MintOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket to mint, the wallet it goes to, and the wallets of the ticket's earlier holders,
    where an attempt made before the ticket changed hands may have put it."""

    request: MintRequest
    owner_address: str
    earlier_holder_addresses: tuple[str, ...] = ()


class Minted(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    ticket_id: uuid.UUID
    owner_address: str
    mint_address: str
    signature: str


class MintFailed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    ticket_id: uuid.UUID
    error: str


MintOutcome = Minted | MintFailed


class NftOnChain(enum.Enum):
    ABSENT = "absent"
    COMPLETE = "complete"
    CONFLICTING = "conflicting"


def nft_on_chain(
    mint: Account | None, holders: Sequence[tuple[Pubkey, Account | None]]
) -> tuple[NftOnChain, str]:
    """What the chain holds at a ticket's mint address: ABSENT, COMPLETE with the wallet that
    holds the NFT (of `holders`, each a wallet and its token account), or CONFLICTING and why."""
    if mint is None:
        return NftOnChain.ABSENT, ""
    if mint.owner != TOKEN_2022_PROGRAM_ID:
        return NftOnChain.CONFLICTING, f"the mint address is an account of {mint.owner}"
    try:
        state = unpack_mint(bytes(mint.data))
    except ValueError as error:
        return NftOnChain.CONFLICTING, f"the mint is unreadable: {error}"
    if not state.is_initialized or state.supply != NFT_SUPPLY or state.decimals != NFT_DECIMALS:
        return (
            NftOnChain.CONFLICTING,
            f"the mint has supply {state.supply}, {state.decimals} decimals",
        )
    if state.mint_authority is not None:
        return NftOnChain.CONFLICTING, "the mint still has a mint authority"
    for wallet, holder in holders:
        if holder is None or holder.owner != TOKEN_2022_PROGRAM_ID:
            continue
        try:
            held = unpack_token_account(bytes(holder.data)).amount
        except ValueError as error:
            return NftOnChain.CONFLICTING, f"a holder's token account is unreadable: {error}"
        if held == NFT_SUPPLY:
            return NftOnChain.COMPLETE, str(wallet)
    return NftOnChain.CONFLICTING, "the NFT exists but no holder of its ticket has it"


class _Planned(msgspec.Struct, frozen=True, kw_only=True):
    """`wallets` are the owner's and then the earlier holders', `holders` their token accounts."""

    order: MintOrder
    mint: Keypair
    owner: Pubkey
    wallets: tuple[Pubkey, ...]
    holders: tuple[Pubkey, ...]


class TicketMinter:
    def __init__(self, *, chain: ChainBackend, authority: Keypair, custody: Custody) -> None:
        self._chain = chain
        self._authority = authority
        self._custody = custody
        self._rent: Rent | None = None

    async def mint(self, orders: Sequence[MintOrder]) -> list[MintOutcome]:
        """One outcome per order, in order; the chain is called in bounded chunks."""
        outcomes: list[MintOutcome] = []
        for start in range(0, len(orders), limits.MINTS_PER_CHAIN_BATCH_MAX):
            chunk = orders[start : start + limits.MINTS_PER_CHAIN_BATCH_MAX]
            try:
                outcomes.extend(await self._mint_chunk(chunk))
            except ChainError as error:
                outcomes.extend(
                    MintFailed(ticket_id=order.request.ticket_id, error=str(error))
                    for order in chunk
                )
        return outcomes

    def _plan(self, order: MintOrder) -> _Planned:
        mint = self._custody.mint_keypair(order.request.ticket_id)
        owner = Pubkey.from_string(order.owner_address)
        earlier = [
            Pubkey.from_string(address)
            for address in dict.fromkeys(order.earlier_holder_addresses)
            if address != order.owner_address
        ]
        wallets = (owner, *earlier)
        return _Planned(
            order=order,
            mint=mint,
            owner=owner,
            wallets=wallets,
            holders=tuple(holder_account_address(wallet, mint.pubkey()) for wallet in wallets),
        )

    async def _mint_chunk(self, orders: Sequence[MintOrder]) -> list[MintOutcome]:
        plans = [self._plan(order) for order in orders]
        accounts = iter(
            await self._chain.get_accounts(
                [address for plan in plans for address in (plan.mint.pubkey(), *plan.holders)]
            )
        )
        outcomes: dict[uuid.UUID, MintOutcome] = {}
        found: list[tuple[_Planned, str]] = []
        absent: list[_Planned] = []
        for plan in plans:
            mint_account = next(accounts)
            holders = [(wallet, next(accounts)) for wallet in plan.wallets]
            finding, holder_or_reason = nft_on_chain(mint_account, holders)
            if finding is NftOnChain.COMPLETE:
                found.append((plan, holder_or_reason))
            elif finding is NftOnChain.ABSENT:
                absent.append(plan)
            else:
                outcomes[plan.order.request.ticket_id] = MintFailed(
                    ticket_id=plan.order.request.ticket_id, error=holder_or_reason
                )
        if found:
            signatures = await self._chain.creation_signatures(
                [plan.mint.pubkey() for plan, _ in found]
            )
            for (plan, holder), signature in zip(found, signatures, strict=True):
                outcomes[plan.order.request.ticket_id] = self._outcome(
                    plan, signature, None, holder
                )
        if absent:
            rent = await self._current_rent()
            blockhash = await self._chain.latest_blockhash()
            transactions = [
                mint_ticket_transaction(
                    authority=self._authority,
                    mint=plan.mint,
                    owner=plan.owner,
                    description=describe_ticket(plan.order.request),
                    rent=rent,
                    blockhash=blockhash,
                )
                for plan in absent
            ]
            sent = await self._chain.send_transactions(transactions)
            for plan, result in zip(absent, sent, strict=True):
                outcomes[plan.order.request.ticket_id] = self._outcome(
                    plan, result.signature, result.error, str(plan.owner)
                )
        return [outcomes[order.request.ticket_id] for order in orders]

    def _outcome(
        self, plan: _Planned, signature: str | None, error: str | None, holder: str
    ) -> MintOutcome:
        ticket_id = plan.order.request.ticket_id
        if error is not None:
            return MintFailed(ticket_id=ticket_id, error=error)
        if signature is None:
            return MintFailed(
                ticket_id=ticket_id, error="the NFT exists but its creating transaction is unknown"
            )
        return Minted(
            ticket_id=ticket_id,
            owner_address=holder,
            mint_address=str(plan.mint.pubkey()),
            signature=signature,
        )

    async def _current_rent(self) -> Rent:
        if self._rent is None:
            self._rent = await self._chain.rent()
        return self._rent
