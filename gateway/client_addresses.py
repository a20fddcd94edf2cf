"""Whom a request comes from: the client's address, worked out once per request from the peer
that connected and, when that peer is one of our load balancers, the X-Forwarded-For it sent.

The rule, for `ONSALE_TRUSTED_PROXIES` (README, Configuration): the header is believed only from a
trusted peer, and then read from the right, past every trusted hop, to the first address that is
not ours; what lies left of it was written by the client and proves nothing. An entry that is not
an address means the chain cannot be read, so the request counts as the peer's own. uvicorn's
reading of proxy headers is off wherever the app is served, so this is the only rule.
"""

import ipaddress
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR_HEADER = b"x-forwarded-for"
# Where the request-context middleware leaves the address in the ASGI scope for the routes.
CLIENT_ADDRESS_SCOPE_KEY = "onsale.client_address"
# The subject of a request whose peer the server could not name (a Unix socket's).
UNKNOWN_CLIENT = "unknown"


def parsed_address(text: str) -> IPAddress | None:
    """The address `text` names, an IPv4 address mapped into IPv6 as itself; None if none."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The load balancers' networks: the peers whose X-Forwarded-For is believed."""

    __slots__ = ("_networks",)

    def __init__(self, networks: Sequence[IPNetwork] = ()) -> None:
        self._networks = tuple(networks)

    @classmethod
    def parse(cls, text: str) -> "TrustedProxies":
        """From comma-separated addresses and networks (`10.0.0.7, 10.1.0.0/16, fd00::/8`);
        a ValueError names the first entry that is neither."""
        networks: list[IPNetwork] = []
        for entry in text.split(","):
            if not entry.strip():
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip()))
            except ValueError as error:
                raise ValueError(
                    f"{entry.strip()!r} is not an IP address or a network: {error}"
                ) from None
        return cls(networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trust(self, address: IPAddress) -> bool:
        return any(address in network for network in self._networks)


NO_TRUSTED_PROXIES = TrustedProxies()


def forwarded_for(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """Every hop of every X-Forwarded-For header, in order: a balancer may append its own header
    after the client's rather than extend it."""
    return [
        hop
        for name, value in headers
        if name == FORWARDED_FOR_HEADER
        for hop in value.decode("latin-1").split(",")
    ]


def client_address(
    peer: str | None, headers: Iterable[tuple[bytes, bytes]], trusted: TrustedProxies
) -> str:
    """The client's address: the peer's own unless the peer is trusted and sent X-Forwarded-For;
    then the rightmost hop that is not trusted (the leftmost when every hop is), or the peer when
    a hop on the way is not an address. A hop read from the header is given in canonical form,
    so one address has one rate-limit bucket however it was written."""
    if peer is None:
        return UNKNOWN_CLIENT
    if not trusted:
        return peer
    peer_address = parsed_address(peer)
    if peer_address is None or not trusted.trust(peer_address):
        return peer
    hops = forwarded_for(headers)
    if not hops:
        return peer
    for hop in reversed(hops):
        address = parsed_address(hop)
        if address is None:
            return peer
        if not trusted.trust(address):
            return str(address)
    # Every hop is one of ours: the request began at the leftmost.
    return str(parsed_address(hops[0]))
