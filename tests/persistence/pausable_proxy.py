"""A TCP proxy in front of the tests' Postgres that a test can pause: while paused it passes
nothing either way, as a Postgres stopped with SIGSTOP answers nothing, without stopping the
server the rest of the suite shares."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

POSTGRES_PORT = 5432
CHUNK_BYTES = 65_536
LOOPBACK = "127.0.0.1"


class PausableProxy:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        host = query.get("host") or parts.hostname or LOOPBACK
        port = parts.port or int(query.get("port", POSTGRES_PORT))
        self._socket_path = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
        self._address = (host, port)
        self._url = url
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        """Listen on a free loopback port; the URL that reaches Postgres through the proxy."""
        self._server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        port = self._server.sockets[0].getsockname()[1]
        parts = urlsplit(self._url)
        query = [(name, value) for name, value in parse_qsl(parts.query) if name != "host"]
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{LOOPBACK}:{port}" if credentials else f"{LOOPBACK}:{port}"
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def close(self) -> None:
        self.resume()
        if self._server is not None:
            self._server.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _serve(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        if self._socket_path is not None:
            server, to_server = await asyncio.open_unix_connection(self._socket_path)
        else:
            server, to_server = await asyncio.open_connection(*self._address)
        for pump in (self._pump(client, to_server), self._pump(server, to_client)):
            task = asyncio.create_task(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK_BYTES):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def pausable(url: str) -> AsyncIterator[tuple[PausableProxy, str]]:
    """A proxy to the Postgres of `url`, and the URL that goes through it; always resumed."""
    proxy = PausableProxy(url)
    proxied_url = await proxy.start()
    try:
        yield proxy, proxied_url
    finally:
        await proxy.close()
