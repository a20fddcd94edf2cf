"""The client's address: X-Forwarded-For is believed only from a trusted peer and read from the
right past our own hops; anything it cannot read leaves the request to the peer."""

import pytest

from gateway.client_addresses import (
    NO_TRUSTED_PROXIES,
    UNKNOWN_CLIENT,
    TrustedProxies,
    client_address,
)

BALANCERS = TrustedProxies.parse("10.0.0.7, 10.1.0.0/16, fd00:1::/64")


def forwarded(*values: str) -> list[tuple[bytes, bytes]]:
    return [(b"host", b"gateway"), *((b"x-forwarded-for", value.encode()) for value in values)]


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("10.0.0.7", forwarded("203.0.113.9"), "203.0.113.9"),
        ("10.1.4.2", forwarded("203.0.113.9"), "203.0.113.9"),
        ("10.0.0.7", forwarded("198.51.100.1, 203.0.113.9, 10.1.0.3"), "203.0.113.9"),
        ("10.0.0.7", forwarded("198.51.100.1, 203.0.113.9", "10.1.0.3"), "203.0.113.9"),
        ("10.0.0.7", forwarded(" 203.0.113.9 ,10.1.9.9,10.0.0.7 "), "203.0.113.9"),
        ("10.0.0.7", forwarded("10.1.0.3, 10.1.0.4"), "10.1.0.3"),
        ("::ffff:10.0.0.7", forwarded("203.0.113.9"), "203.0.113.9"),
    ],
    ids=[
        "one hop",
        "peer in a trusted network",
        "many hops, the client's own entries ignored",
        "a balancer's header after the client's",
        "spaces around hops",
        "every hop ours",
        "IPv4 peer mapped into IPv6",
    ],
)
def test_client_is_the_rightmost_untrusted_hop_when_a_trusted_peer_forwards(
    peer: str, headers: list[tuple[bytes, bytes]], client: str
) -> None:
    assert client_address(peer, headers, BALANCERS) == client


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        ("203.0.113.66", BALANCERS),
        ("10.2.0.1", BALANCERS),
        ("127.0.0.1", NO_TRUSTED_PROXIES),
        ("2001:db8::66", BALANCERS),
    ],
    ids=["untrusted peer", "just outside a trusted network", "nothing trusted", "untrusted IPv6"],
)
def test_forged_header_is_ignored_when_the_peer_is_not_trusted(
    peer: str, trusted: TrustedProxies
) -> None:
    assert client_address(peer, forwarded("198.51.100.1, 10.0.0.7"), trusted) == peer


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("fd00:1::5", forwarded("2001:db8::1"), "2001:db8::1"),
        ("fd00:1::5", forwarded("2001:DB8:0:0::1"), "2001:db8::1"),
        ("fd00:1::5", forwarded("2001:db8::1, fd00:1::9"), "2001:db8::1"),
        ("10.0.0.7", forwarded("2001:db8::1"), "2001:db8::1"),
        ("fd00:1::5", forwarded("203.0.113.9"), "203.0.113.9"),
        ("fd00:2::5", forwarded("2001:db8::1"), "fd00:2::5"),
    ],
    ids=[
        "IPv6 behind an IPv6 balancer",
        "written otherwise, one canonical address",
        "behind two IPv6 hops",
        "IPv6 client behind an IPv4 balancer",
        "IPv4 client behind an IPv6 balancer",
        "outside the trusted IPv6 network",
    ],
)
def test_ipv6_clients_and_balancers_follow_the_same_rule(
    peer: str, headers: list[tuple[bytes, bytes]], client: str
) -> None:
    assert client_address(peer, headers, BALANCERS) == client


@pytest.mark.parametrize(
    "header",
    [
        "not-an-address",
        "203.0.113.9, , 10.1.0.3",
        "203.0.113.9:4711",
        "[2001:db8::1]",
        "203.0.113.9, unknown",
        "",
        "203.0.113.9, 10.1.0.3, 256.1.1.1",
    ],
    ids=["a word", "an empty hop", "a port", "brackets", "unknown", "empty", "out of range"],
)
def test_peer_is_the_client_when_the_chain_cannot_be_read(header: str) -> None:
    assert client_address("10.0.0.7", forwarded(header), BALANCERS) == "10.0.0.7"


def test_peer_is_the_client_when_a_trusted_peer_sends_no_header() -> None:
    assert client_address("10.0.0.7", forwarded(), BALANCERS) == "10.0.0.7"


def test_client_is_unknown_when_the_server_names_no_peer() -> None:
    assert client_address(None, forwarded("203.0.113.9"), BALANCERS) == UNKNOWN_CLIENT


def test_malformed_hop_left_of_the_client_is_never_read() -> None:
    """What the client wrote before its own address is not ours to check."""
    headers = forwarded("garbage, 203.0.113.9")
    assert client_address("10.0.0.7", headers, BALANCERS) == "203.0.113.9"


@pytest.mark.parametrize(
    "text",
    ["10.0.0.7,", "", " 10.0.0.0/8 , fd00::/8 ", "192.0.2.1/32,2001:db8::1"],
)
def test_trusted_proxies_read_addresses_and_networks_when_separated_by_commas(text: str) -> None:
    TrustedProxies.parse(text)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("10.0.0.7, balancer.internal", "'balancer.internal'"),
        ("10.0.0.1/8", "'10.0.0.1/8'"),
        ("10.0.0.0/33", "'10.0.0.0/33'"),
    ],
    ids=["a host name", "host bits set", "prefix too long"],
)
def test_trusted_proxies_name_the_entry_when_it_is_not_an_address_or_network(
    text: str, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        TrustedProxies.parse(text)
