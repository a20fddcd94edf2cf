"""HTTP/1.1 requests written by hand on a socket, for bodies no client should hold: a body of any
size streams from one repeated chunk, and every byte of the answer is kept even when the server
resets the connection right after it (as it does after refusing an upload)."""

import asyncio
import contextlib
import itertools
import json
import socket
import urllib.parse
from collections.abc import Iterator
from typing import Any

CHUNK_BYTES = 65_536
FILLER = b"x" * CHUNK_BYTES
ANSWER_TIMEOUT_S = 30.0
HEAD_END = b"\r\n\r\n"
INTERIM_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Answer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(HEAD_END)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines)
        }

    def json(self) -> Any:
        return json.loads(self.body)

    def error(self) -> dict[str, Any]:
        """The answer's error, checked to be in API.md's shape."""
        body = self.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
        error: dict[str, Any] = body["error"]
        return error


class Exchange:
    """One request on a socket of its own. The answer is read as it comes, apart from the writes,
    so an answer the server sends before it resets the connection is kept, whatever the writes
    meet; `answer` waits for the final answer (an interim 100 Continue is skipped) or the end."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.received = bytearray()
        self.arrived = asyncio.Event()
        self.reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.answered:
            try:
                data = await loop.sock_recv(self.connection, CHUNK_BYTES)
            except ConnectionError:
                data = b""
            self.received += data
            self.arrived.set()
            if not data:
                return

    @property
    def final(self) -> bytes:
        raw = bytes(self.received)
        while raw.startswith(INTERIM_CONTINUE):
            raw = raw[len(INTERIM_CONTINUE) :]
        return raw

    @property
    def continued(self) -> bool:
        return bytes(self.received).startswith(INTERIM_CONTINUE)

    @property
    def answered(self) -> bool:
        raw = self.final
        if HEAD_END not in raw:
            return False
        answer = Answer(raw)
        return len(answer.body) >= int(answer.headers.get("content-length", "0"))

    async def write(self, data: bytes) -> bool:
        """Send `data` once the server takes it; False once it answered or the connection ended."""
        if self.reading.done():
            return False
        try:
            await asyncio.get_running_loop().sock_sendall(self.connection, data)
        except ConnectionError:
            return False
        return True

    async def answer(self) -> Answer:
        await asyncio.wait_for(asyncio.shield(self.reading), ANSWER_TIMEOUT_S)
        return Answer(self.final)

    async def close(self) -> None:
        """Stop reading (so the loop lets go of the socket), then close it."""
        self.reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reading
        self.connection.close()


async def connect(base_url: str) -> Exchange:
    address = urllib.parse.urlsplit(base_url)
    assert address.hostname is not None and address.port is not None
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    connection.setblocking(False)
    await asyncio.get_running_loop().sock_connect(connection, (address.hostname, address.port))
    return Exchange(connection)


def request_head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: gateway", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def body_parts(body: bytes, filler_bytes: int) -> Iterator[bytes]:
    """`body` and then `filler_bytes` of filler, a chunk at a time; the filler is one chunk sent
    again and again, so no size of it is ever held."""
    for start in range(0, len(body), CHUNK_BYTES):
        yield body[start : start + CHUNK_BYTES]
    whole_chunks, rest = divmod(filler_bytes, CHUNK_BYTES)
    yield from itertools.repeat(FILLER, whole_chunks)
    if rest:
        yield FILLER[:rest]


async def post(
    base_url: str,
    path: str,
    *,
    chunked: bool,
    body: bytes = b"",
    filler_bytes: int = 0,
    headers: dict[str, str] | None = None,
) -> Answer:
    """POST `body` followed by `filler_bytes` of filler, its length declared by Content-Length or
    not (chunked), stopping as soon as the server answers or closes."""
    length = len(body) + filler_bytes
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(length)}
    exchange = await connect(base_url)
    try:
        sent = await exchange.write(request_head(path, {**(headers or {}), **framing}))
        for part in body_parts(body, filler_bytes):
            if chunked:
                sent = await exchange.write(b"%x\r\n" % len(part))
            sent = sent and await exchange.write(part)
            if chunked:
                sent = sent and await exchange.write(b"\r\n")
            if not sent:
                break
        if chunked and sent:
            await exchange.write(b"0\r\n\r\n")
        return await exchange.answer()
    finally:
        await exchange.close()


async def stalled_upload(base_url: str, path: str) -> Exchange:
    """A chunked upload whose route is reading its body (the server said 100 Continue) and which
    sends none of it, until the caller closes it."""
    exchange = await connect(base_url)
    head = request_head(path, {"Transfer-Encoding": "chunked", "Expect": "100-continue"})
    await exchange.write(head)
    async with asyncio.timeout(ANSWER_TIMEOUT_S):
        while not (exchange.continued or exchange.reading.done()):
            exchange.arrived.clear()
            await exchange.arrived.wait()
    return exchange
