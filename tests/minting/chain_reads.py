"""Reading a ticket's NFT back off the chain, the way a wallet or an explorer would."""

import uuid

import msgspec
from solders.pubkey import Pubkey
from spl.token.constants import TOKEN_2022_PROGRAM_ID

from minting.chain import ChainBackend
from minting.local_chain import LocalChain
from minting.token_2022 import (
    TOKEN_ACCOUNT_BASE_BYTES,
    MintState,
    TokenAccountState,
    unpack_mint,
    unpack_token_account,
)
from minting.transactions import holder_account_address

ACCOUNT_TYPE_MINT = 1


class NftReadBack(msgspec.Struct, frozen=True, kw_only=True):
    mint: MintState
    holder: TokenAccountState


async def read_nft(chain: ChainBackend, mint_address: str, owner_address: str) -> NftReadBack:
    mint = Pubkey.from_string(mint_address)
    holder = holder_account_address(Pubkey.from_string(owner_address), mint)
    mint_account, holder_account = await chain.get_accounts([mint, holder])
    assert mint_account is not None and mint_account.owner == TOKEN_2022_PROGRAM_ID
    assert holder_account is not None and holder_account.owner == TOKEN_2022_PROGRAM_ID
    return NftReadBack(
        mint=unpack_mint(bytes(mint_account.data)),
        holder=unpack_token_account(bytes(holder_account.data)),
    )


async def nfts_of_ticket(chain: LocalChain, ticket_id: uuid.UUID) -> list[MintState]:
    """Every Token-2022 mint on the chain whose metadata names the ticket."""
    found = []
    for _, account in await chain.program_accounts(TOKEN_2022_PROGRAM_ID):
        data = bytes(account.data)
        if (
            len(data) <= TOKEN_ACCOUNT_BASE_BYTES
            or data[TOKEN_ACCOUNT_BASE_BYTES] != ACCOUNT_TYPE_MINT
        ):
            continue
        mint = unpack_mint(data)
        if mint.metadata and ("ticket", str(ticket_id)) in mint.metadata.additional_metadata:
            found.append(mint)
    return found
