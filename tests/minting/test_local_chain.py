"""The embedded chain and the transactions sent to it: NFTs survive a restart from the chain's
directory (a torn last write included), the longest texts still fit one transaction, and an NFT
moves from a custodial wallet to another fan's."""

import ctypes
import ctypes.util
import pathlib
import uuid

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID

from engine import limits
from minting.custody import Custody
from minting.local_chain import LocalChain
from minting.minter import Minted, MintOrder, TicketMinter
from minting.requests import MintRequest
from minting.ticket_nft import describe_ticket
from minting.transactions import (
    TRANSACTION_BYTES_MAX,
    holder_account_address,
    mint_ticket_transaction,
    transfer_ticket_transaction,
)
from minting.voider import TicketVoider, Voided, VoidFailed, VoidOrder
from tests.minting.chain_reads import read_nft


def ticket_request(
    *, event_name: str = "Night One", ticket_type_name: str = "Floor", seat: str | None = "1-A-1"
) -> MintRequest:
    return MintRequest(
        ticket_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        owner_user_id="fan-1",
        event_name=event_name,
        ticket_type_name=ticket_type_name,
        seat=seat,
    )


async def mint(
    chain: LocalChain, custody: Custody, authority: Keypair, request: MintRequest
) -> Minted:
    owner = custody.fan_keypair(request.tenant_id, request.owner_user_id).pubkey()
    minter = TicketMinter(chain=chain, authority=authority, custody=custody)
    (outcome,) = await minter.mint([MintOrder(request=request, owner_address=str(owner))])
    assert isinstance(outcome, Minted), outcome
    return outcome


async def test_nft_is_still_there_when_the_chain_restarts_from_its_directory(
    local_chain: LocalChain, chain_directory: pathlib.Path, custody: Custody, authority: Keypair
) -> None:
    minted = await mint(local_chain, custody, authority, ticket_request())

    restarted = LocalChain(str(chain_directory))
    nft = await read_nft(restarted, minted.mint_address, minted.owner_address)

    mint_address = Pubkey.from_string(minted.mint_address)
    assert nft.mint.supply == 1
    assert nft.mint.mint_authority is None
    assert nft.holder.amount == 1
    assert await restarted.get_accounts([mint_address]) == await local_chain.get_accounts(
        [mint_address]
    )
    assert await restarted.creation_signatures([mint_address]) == [minted.signature]


async def test_restarted_chain_finds_the_nft_instead_of_minting_it_again(
    local_chain: LocalChain, chain_directory: pathlib.Path, custody: Custody, authority: Keypair
) -> None:
    request = ticket_request()
    minted = await mint(local_chain, custody, authority, request)

    again = await mint(LocalChain(str(chain_directory)), custody, authority, request)

    assert again == minted


async def test_whole_records_are_kept_when_the_last_write_was_torn(
    local_chain: LocalChain, chain_directory: pathlib.Path, custody: Custody, authority: Keypair
) -> None:
    minted = await mint(local_chain, custody, authority, ticket_request())
    journal = chain_directory / "accounts.journal"
    with journal.open("ab") as torn:
        torn.write(b"\x40\x00\x00\x00\x01\x02\x03\x04half a record")

    restarted = LocalChain(str(chain_directory))
    nft = await read_nft(restarted, minted.mint_address, minted.owner_address)
    later = await mint(restarted, custody, authority, ticket_request())
    reloaded = LocalChain(str(chain_directory))

    assert nft.holder.amount == 1
    assert (await read_nft(reloaded, later.mint_address, later.owner_address)).holder.amount == 1


async def test_longest_texts_fit_one_transaction_when_cut_to_their_budgets(
    local_chain: LocalChain, custody: Custody, authority: Keypair
) -> None:
    request = ticket_request(event_name="Σ" * 200, ticket_type_name="Ü" * 100, seat="Ж" * 100)

    description = describe_ticket(request)
    transaction = mint_ticket_transaction(
        authority=authority,
        mint=custody.mint_keypair(request.ticket_id),
        owner=Keypair().pubkey(),
        description=description,
        rent=await local_chain.rent(),
        blockhash=await local_chain.latest_blockhash(),
    )
    minted = await mint(local_chain, custody, authority, request)

    fields = dict(description.fields)
    metadata = (await read_nft(local_chain, minted.mint_address, minted.owner_address)).mint
    assert metadata.metadata is not None
    assert metadata.metadata.name == description.name
    assert len(description.name.encode()) <= limits.NFT_NAME_BYTES_MAX
    assert fields["event"] == "Σ" * (limits.NFT_EVENT_BYTES_MAX // 2)
    assert fields["ticket_type"] == "Ü" * (limits.NFT_TICKET_TYPE_BYTES_MAX // 2)
    assert fields["seat"] == "Ж" * (limits.NFT_SEAT_BYTES_MAX // 2)
    assert len(bytes(transaction)) <= TRANSACTION_BYTES_MAX


async def test_general_admission_nft_names_its_ticket_type_when_it_has_no_seat() -> None:
    description = describe_ticket(ticket_request(seat=None))

    assert description.name == "Night One · Floor"
    assert "seat" not in dict(description.fields)


async def test_nft_moves_to_another_fan_when_transferred_from_a_custodial_wallet(
    local_chain: LocalChain, custody: Custody, authority: Keypair
) -> None:
    request = ticket_request()
    minted = await mint(local_chain, custody, authority, request)
    holder = custody.fan_keypair(request.tenant_id, request.owner_user_id)
    recipient = custody.fan_keypair(request.tenant_id, "fan-2").pubkey()

    (sent,) = await local_chain.send_transactions(
        [
            transfer_ticket_transaction(
                payer=authority,
                holder=holder,
                recipient=recipient,
                mint=Pubkey.from_string(minted.mint_address),
                blockhash=await local_chain.latest_blockhash(),
            )
        ]
    )

    assert sent.error is None
    received = await read_nft(local_chain, minted.mint_address, str(recipient))
    left = await read_nft(local_chain, minted.mint_address, str(holder.pubkey()))
    assert received.holder.amount == 1
    assert left.holder.amount == 0
    assert received.mint.supply == 1


async def test_second_mint_of_a_ticket_is_refused_when_another_owner_is_named(
    local_chain: LocalChain, custody: Custody, authority: Keypair
) -> None:
    request = ticket_request()
    minted = await mint(local_chain, custody, authority, request)
    other_owner = Keypair().pubkey()

    (sent,) = await local_chain.send_transactions(
        [
            mint_ticket_transaction(
                authority=authority,
                mint=custody.mint_keypair(request.ticket_id),
                owner=other_owner,
                description=describe_ticket(request),
                rent=await local_chain.rent(),
                blockhash=await local_chain.latest_blockhash(),
            )
        ]
    )

    assert sent.error is not None
    assert f"Program {SYSTEM_PROGRAM_ID} failed" in sent.error
    assert (
        await read_nft(local_chain, minted.mint_address, minted.owner_address)
    ).holder.amount == 1
    assert await local_chain.get_accounts(
        [holder_account_address(other_owner, Pubkey.from_string(minted.mint_address))]
    ) == [None]


async def test_long_double_arithmetic_still_works_in_the_process_when_the_chain_has_minted(
    local_chain: LocalChain, custody: Custody, authority: Keypair
) -> None:
    """Ray's C++ core sizes its hash tables with long doubles: NaN there kills the process."""
    square_root = ctypes.CDLL(ctypes.util.find_library("m")).sqrtl
    square_root.restype = ctypes.c_longdouble
    square_root.argtypes = [ctypes.c_longdouble]

    await mint(local_chain, custody, authority, ticket_request())

    assert square_root(16.0) == 4.0


async def test_nft_is_marked_void_once_when_its_ticket_is_refunded(
    local_chain: LocalChain, custody: Custody, authority: Keypair
) -> None:
    request = ticket_request()
    minted = await mint(local_chain, custody, authority, request)
    voider = TicketVoider(chain=local_chain, authority=authority)
    order = VoidOrder(ticket_id=request.ticket_id, mint_address=minted.mint_address)

    (first,) = await voider.void([order])
    (again,) = await voider.void([order])

    assert isinstance(first, Voided) and first.signature is not None
    assert again == Voided(ticket_id=request.ticket_id, signature=None)
    nft = await read_nft(local_chain, minted.mint_address, minted.owner_address)
    assert nft.mint.metadata is not None
    assert dict(nft.mint.metadata.additional_metadata)["status"] == "void"
    assert nft.holder.amount == 1


async def test_void_fails_when_no_nft_is_at_the_address(
    local_chain: LocalChain, authority: Keypair
) -> None:
    ticket_id = uuid.uuid4()
    voider = TicketVoider(chain=local_chain, authority=authority)
    (outcome,) = await voider.void(
        [VoidOrder(ticket_id=ticket_id, mint_address=str(Keypair().pubkey()))]
    )
    assert isinstance(outcome, VoidFailed) and outcome.ticket_id == ticket_id
