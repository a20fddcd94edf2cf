"""Where a venue's webhook may be posted: the address its host resolves to, checked and pinned.

A venue names its webhook URL, so without a check a venue could make the platform POST into its
own network: a database, a cloud metadata endpoint, an admin port on loopback. In production a
webhook therefore goes only to public addresses. The host is resolved when the webhook is sent
(a name may point elsewhere tomorrow), and the POST connects to the very address that was checked,
so a name that resolves once to a public address and then to a private one cannot slip through.
Outside production private addresses are allowed, for receivers on a laptop or in the tests.
"""

import asyncio
import ipaddress
import socket
import urllib.parse
from collections.abc import Awaitable, Callable

import msgspec

Resolve = Callable[[str, int], Awaitable[list[str]]]
DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedDestination(Exception):
    """The URL cannot be posted to now: its host did not resolve (worth a retry), or it names
    no host or a host that is not a public address (final)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Destination(msgspec.Struct, frozen=True, kw_only=True):
    """The URL to connect to (its host replaced by the checked address), and the names to keep:
    the `Host` header and, for https, the server name that TLS sends and verifies."""

    url: str
    host_header: str
    server_name: str


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`."""
    answers = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def is_public(address: str) -> bool:
    """Whether an address is reachable on the public internet: not private, loopback, link-local,
    shared (carrier-grade NAT), reserved, multicast or unspecified."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_global and not parsed.is_multicast


async def pinned_destination(url: str, *, allow_private: bool, resolve: Resolve) -> Destination:
    """The URL to connect to, by the first acceptable address its host resolves to.

    Raises RefusedDestination when the host does not resolve, or when private addresses are not
    allowed and any address it resolves to is not public (one bad answer is enough to refuse).
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if not host or parts.scheme not in DEFAULT_PORTS:
        raise RefusedDestination(f"{url!r} names no http(s) host", retryable=False)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        addresses = await resolve(host, port)
    except OSError as error:
        raise RefusedDestination(f"{host} does not resolve: {error}", retryable=True) from error
    if not addresses:
        raise RefusedDestination(f"{host} does not resolve", retryable=True)
    if not allow_private:
        private = [address for address in addresses if not is_public(address)]
        if private:
            raise RefusedDestination(
                f"{host} resolves to {private[0]}, which is not a public address; "
                "webhooks go to public addresses only",
                retryable=False,
            )
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    return Destination(
        url=urllib.parse.urlunsplit(parts._replace(netloc=netloc)),
        host_header=parts.netloc.rpartition("@")[2],
        server_name=host,
    )
