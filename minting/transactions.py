"""The signed transactions of a ticket's NFT: minting it into a wallet, moving it to another, and
marking it void.

Minting is one atomic transaction, so the NFT exists whole or not at all: create the mint account
(Token-2022, room for the metadata pointer), point its metadata at itself, initialise it with 0
decimals, write name, symbol, uri and fields, create the owner's associated token account, mint
exactly 1, and remove the mint authority so no second token can ever exist.
"""

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.rent import Rent
from solders.system_program import (
    CreateAccountParams,
    TransferParams,
    create_account,
    transfer,
)
from solders.transaction import Transaction
from spl.token.constants import TOKEN_2022_PROGRAM_ID
from spl.token.instructions import (
    create_idempotent_associated_token_account,
    get_associated_token_address,
    initialize_mint2,
    mint_to_checked,
    set_authority,
    transfer_checked,
)
from spl.token.models import (
    AuthorityType,
    InitializeMint2Params,
    MintToCheckedParams,
    SetAuthorityParams,
    TransferCheckedParams,
)

from minting.ticket_nft import TicketNftDescription
from minting.token_2022 import (
    MINT_WITH_METADATA_POINTER_BYTES,
    initialize_metadata_pointer,
    initialize_token_metadata,
    metadata_extension_bytes,
    update_token_metadata_field,
)

NFT_DECIMALS = 0
NFT_SUPPLY = 1
# Solana refuses a serialised transaction larger than this.
TRANSACTION_BYTES_MAX = 1_232


def holder_account_address(owner: Pubkey, mint: Pubkey) -> Pubkey:
    """The owner's associated token account for the mint: where the NFT sits."""
    return get_associated_token_address(owner, mint, TOKEN_2022_PROGRAM_ID)


def mint_account_lamports(
    description: TicketNftDescription, *, mint: Pubkey, authority: Pubkey, rent: Rent
) -> int:
    """Rent for the mint at its final size: the metadata grows the account as it is written."""
    metadata = description.metadata(mint=mint, update_authority=authority)
    return rent.minimum_balance(
        MINT_WITH_METADATA_POINTER_BYTES + metadata_extension_bytes(metadata)
    )


def mint_ticket_transaction(
    *,
    authority: Keypair,
    mint: Keypair,
    owner: Pubkey,
    description: TicketNftDescription,
    rent: Rent,
    blockhash: Hash,
) -> Transaction:
    """The NFT of one ticket, paid for and signed by the authority and by the mint's own key.

    One function on purpose: its body is the list of instructions in the order the chain runs
    them, which reads best whole."""
    payer = authority.pubkey()
    mint_address = mint.pubkey()
    instructions = [
        create_account(
            CreateAccountParams(
                from_pubkey=payer,
                to_pubkey=mint_address,
                lamports=mint_account_lamports(
                    description, mint=mint_address, authority=payer, rent=rent
                ),
                space=MINT_WITH_METADATA_POINTER_BYTES,
                owner=TOKEN_2022_PROGRAM_ID,
            )
        ),
        initialize_metadata_pointer(
            mint=mint_address, authority=payer, metadata_address=mint_address
        ),
        initialize_mint2(
            InitializeMint2Params(
                program_id=TOKEN_2022_PROGRAM_ID,
                mint=mint_address,
                decimals=NFT_DECIMALS,
                mint_authority=payer,
                freeze_authority=None,
            )
        ),
        initialize_token_metadata(
            mint=mint_address,
            update_authority=payer,
            mint_authority=payer,
            name=description.name,
            symbol=description.symbol,
            uri=description.uri,
        ),
        *(
            update_token_metadata_field(
                mint=mint_address, update_authority=payer, key=key, value=value
            )
            for key, value in description.fields
        ),
        create_idempotent_associated_token_account(
            payer, owner, mint_address, TOKEN_2022_PROGRAM_ID
        ),
        mint_to_checked(
            MintToCheckedParams(
                program_id=TOKEN_2022_PROGRAM_ID,
                mint=mint_address,
                dest=holder_account_address(owner, mint_address),
                mint_authority=payer,
                amount=NFT_SUPPLY,
                decimals=NFT_DECIMALS,
            )
        ),
        set_authority(
            SetAuthorityParams(
                program_id=TOKEN_2022_PROGRAM_ID,
                account=mint_address,
                authority=AuthorityType.MINT_TOKENS,
                current_authority=payer,
                new_authority=None,
            )
        ),
    ]
    message = Message.new_with_blockhash(instructions, payer, blockhash)
    transaction = Transaction([authority, mint], message, blockhash)
    assert len(bytes(transaction)) <= TRANSACTION_BYTES_MAX, "the NFT's texts outgrew their budgets"
    return transaction


def transfer_ticket_transaction(
    *, payer: Keypair, holder: Keypair, recipient: Pubkey, mint: Pubkey, blockhash: Hash
) -> Transaction:
    """Move the NFT from `holder` (a wallet we hold the key of) to `recipient`'s wallet."""
    payer_address = payer.pubkey()
    instructions = [
        create_idempotent_associated_token_account(
            payer_address, recipient, mint, TOKEN_2022_PROGRAM_ID
        ),
        transfer_checked(
            TransferCheckedParams(
                program_id=TOKEN_2022_PROGRAM_ID,
                source=holder_account_address(holder.pubkey(), mint),
                mint=mint,
                dest=holder_account_address(recipient, mint),
                owner=holder.pubkey(),
                amount=NFT_SUPPLY,
                decimals=NFT_DECIMALS,
            )
        ),
    ]
    message = Message.new_with_blockhash(instructions, payer_address, blockhash)
    signers = [payer] if holder.pubkey() == payer_address else [payer, holder]
    return Transaction(signers, message, blockhash)


def void_ticket_transaction(
    *,
    authority: Keypair,
    mint: Pubkey,
    extra_lamports: int,
    key: str,
    value: str,
    blockhash: Hash,
) -> Transaction:
    """Write one metadata field of the NFT as its update authority, first paying the mint account
    the rent its longer metadata needs."""
    payer = authority.pubkey()
    instructions = [
        *(
            [transfer(TransferParams(from_pubkey=payer, to_pubkey=mint, lamports=extra_lamports))]
            if extra_lamports > 0
            else []
        ),
        update_token_metadata_field(mint=mint, update_authority=payer, key=key, value=value),
    ]
    message = Message.new_with_blockhash(instructions, payer, blockhash)
    return Transaction([authority], message, blockhash)
