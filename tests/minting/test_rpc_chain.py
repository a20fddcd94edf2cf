"""RpcChain against a JSON-RPC node (tests/minting/rpc_node.py) that runs the real Token-2022
program: it mints, confirms, reads back, finds an NFT that landed before, reports a refusal with
its reason, and turns an unreachable node into a ChainError."""

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from solders.keypair import Keypair

from minting.chain import ChainError
from minting.custody import Custody
from minting.local_chain import LocalChain
from minting.minter import Minted, MintOrder, TicketMinter
from minting.requests import MintRequest
from minting.rpc_chain import RpcChain
from minting.ticket_nft import describe_ticket
from minting.transactions import mint_ticket_transaction
from tests.minting.chain_reads import read_nft
from tests.minting.rpc_node import RpcNode, free_port, running_node


@pytest.fixture
def node(local_chain: LocalChain) -> Iterator[tuple[str, RpcNode]]:
    with running_node(local_chain) as served:
        yield served


@pytest.fixture
async def rpc_chain(node: tuple[str, RpcNode]) -> AsyncIterator[RpcChain]:
    chain = RpcChain(node[0])
    yield chain
    await chain.close()


def order_for(custody: Custody) -> MintOrder:
    request = MintRequest(
        ticket_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        owner_user_id="fan-1",
        event_name="Night One",
        ticket_type_name="Floor",
        seat="101-A-7",
    )
    owner = custody.fan_keypair(request.tenant_id, request.owner_user_id).pubkey()
    return MintOrder(request=request, owner_address=str(owner))


async def test_nft_is_minted_confirmed_and_read_back_when_sent_over_rpc(
    rpc_chain: RpcChain, node: tuple[str, RpcNode], custody: Custody, authority: Keypair
) -> None:
    order = order_for(custody)
    minter = TicketMinter(chain=rpc_chain, authority=authority, custody=custody)

    (minted,) = await minter.mint([order])
    (found_again,) = await minter.mint([order])

    assert isinstance(minted, Minted)
    assert found_again == minted
    assert node[1].confirmed == {minted.signature}
    nft = await read_nft(rpc_chain, minted.mint_address, minted.owner_address)
    assert (nft.mint.supply, nft.mint.decimals, nft.mint.mint_authority) == (1, 0, None)
    assert nft.holder.amount == 1


async def test_refusal_comes_back_with_its_reason_when_the_node_rejects_a_transaction(
    rpc_chain: RpcChain, custody: Custody, authority: Keypair
) -> None:
    order = order_for(custody)
    await TicketMinter(chain=rpc_chain, authority=authority, custody=custody).mint([order])
    second_mint = mint_ticket_transaction(
        authority=authority,
        mint=custody.mint_keypair(order.request.ticket_id),
        owner=Keypair().pubkey(),
        description=describe_ticket(order.request),
        rent=await rpc_chain.rent(),
        blockhash=await rpc_chain.latest_blockhash(),
    )

    (sent,) = await rpc_chain.send_transactions([second_mint])

    assert sent.signature == str(second_mint.signatures[0])
    assert sent.error is not None and "simulation failed" in sent.error


async def test_chain_error_is_raised_when_the_node_cannot_be_reached() -> None:
    chain = RpcChain(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(ChainError, match="the Solana RPC"):
            await chain.latest_blockhash()
    finally:
        await chain.close()
