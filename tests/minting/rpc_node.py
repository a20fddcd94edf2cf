"""A Solana JSON-RPC node for the RpcChain tests: the methods RpcChain calls, answered in the wire
format of a real node, over a LocalChain (the real runtime and programs) on a loopback port.

Transactions are confirmed as soon as they are sent, and one the runtime refuses is answered as a
failed preflight, as a node does, its reason in the message and the logs. Only what RpcChain reads
is filled in.
"""

import asyncio
import base64
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from minting.local_chain import LocalChain

SLOT = 1
BLOCK_HEIGHT = 1
BLOCKHASH_VALID_BLOCKS = 150
PREFLIGHT_FAILURE = -32002
STARTUP_POLL_INTERVAL_S = 0.01


class RpcNode:
    def __init__(self, chain: LocalChain) -> None:
        self.chain = chain
        self.refused: dict[str, str] = {}
        self.confirmed: set[str] = set()

    def _context(self, value: object) -> dict[str, object]:
        return {"context": {"slot": SLOT}, "value": value}

    async def getLatestBlockhash(self, _: list[Any]) -> object:
        blockhash = await self.chain.latest_blockhash()
        return self._context(
            {
                "blockhash": str(blockhash),
                "lastValidBlockHeight": BLOCK_HEIGHT + BLOCKHASH_VALID_BLOCKS,
            }
        )

    async def getBlockHeight(self, _: list[Any]) -> object:
        return BLOCK_HEIGHT

    async def getMultipleAccounts(self, params: list[Any]) -> object:
        addresses = [Pubkey.from_string(address) for address in params[0]]
        accounts = await self.chain.get_accounts(addresses)
        return self._context(
            [
                None
                if account is None
                else {
                    "lamports": account.lamports,
                    "owner": str(account.owner),
                    "data": [base64.b64encode(bytes(account.data)).decode(), "base64"],
                    "executable": account.executable,
                    "rentEpoch": account.rent_epoch,
                    "space": len(account.data),
                }
                for account in accounts
            ]
        )

    async def sendTransaction(self, params: list[Any]) -> object:
        transaction = Transaction.from_bytes(base64.b64decode(params[0]))
        (sent,) = await self.chain.send_transactions([transaction])
        if sent.error is not None:
            raise PreflightFailure(sent.error)
        self.confirmed.add(sent.signature)
        return sent.signature

    async def getSignatureStatuses(self, params: list[Any]) -> object:
        return self._context(
            [
                {
                    "slot": SLOT,
                    "confirmations": None,
                    "err": None,
                    "status": {"Ok": None},
                    "confirmationStatus": "confirmed",
                }
                if signature in self.confirmed
                else None
                for signature in params[0]
            ]
        )

    async def getSignaturesForAddress(self, params: list[Any]) -> object:
        (signature,) = await self.chain.creation_signatures([Pubkey.from_string(params[0])])
        if signature is None:
            return []
        return [
            {
                "signature": str(Signature.from_string(signature)),
                "slot": SLOT,
                "err": None,
                "memo": None,
                "blockTime": None,
                "confirmationStatus": "confirmed",
            }
        ]


class PreflightFailure(Exception):
    pass


def application(node: RpcNode) -> Starlette:
    async def answer(request: Request) -> JSONResponse:
        call = await request.json()
        method = getattr(node, call["method"])
        try:
            result = await method(call.get("params", []))
        except PreflightFailure as refusal:
            return JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "id": call["id"],
                    "error": {
                        "code": PREFLIGHT_FAILURE,
                        "message": f"Transaction simulation failed: {refusal}",
                        "data": {
                            "err": None,
                            "logs": [str(refusal)],
                            "accounts": None,
                            "unitsConsumed": 0,
                            "returnData": None,
                        },
                    },
                }
            )
        return JSONResponse({"jsonrpc": "2.0", "id": call["id"], "result": result})

    return Starlette(routes=[Route("/", answer, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_node(chain: LocalChain) -> Iterator[tuple[str, RpcNode]]:
    """The node served on a loopback port in a thread of its own; its URL and the node."""
    node = RpcNode(chain)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application(node), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the RPC node did not start"
        time.sleep(STARTUP_POLL_INTERVAL_S)
    try:
        yield f"http://127.0.0.1:{port}", node
    finally:
        server.should_exit = True
        thread.join()
