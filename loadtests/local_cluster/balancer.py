"""HAProxy in front of the gateways, as production runs it, and relaying this machine's Postgres
and Redis (which listen on its loopback) to an address the other node reaches.

The gateways' backend is checked every half second on `/health/ready`; a gateway that stops
answering leaves the rotation after two failed checks, and a request whose connection to it fails
is sent to the other (`retry-on conn-failure` with `redispatch`): only a request that never
reached a gateway is sent again. Each request carries the fan's address in X-Forwarded-For.
"""

import pathlib
import subprocess

import msgspec

from loadtests.local_cluster.debian import ensure_debian_package

CHECK_INTERVAL_MS = 500
# Pooled Postgres connections and Redis subscriptions sit idle for long stretches.
RELAY_IDLE_TIMEOUT = "24h"


class Gateway(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    address: str
    port: int


class BalancerPorts(msgspec.Struct, frozen=True, kw_only=True):
    fans: int
    postgres: int
    redis: int


def haproxy_configuration(address: str, ports: BalancerPorts, gateways: list[Gateway]) -> str:
    servers = "\n".join(
        f"    server {gateway.name} {gateway.address}:{gateway.port} "
        f"check inter {CHECK_INTERVAL_MS} fall 2 rise 2"
        for gateway in gateways
    )
    return f"""global
    maxconn 20000

defaults
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3

frontend fans
    mode http
    bind {address}:{ports.fans}
    default_backend gateways

backend gateways
    mode http
    balance roundrobin
    option httpchk GET /health/ready
    option forwardfor
    option redispatch
    retry-on conn-failure
{servers}

listen postgres
    mode tcp
    bind {address}:{ports.postgres}
    timeout client {RELAY_IDLE_TIMEOUT}
    timeout server {RELAY_IDLE_TIMEOUT}
    server postgres 127.0.0.1:5432

listen redis
    mode tcp
    bind {address}:{ports.redis}
    timeout client {RELAY_IDLE_TIMEOUT}
    timeout server {RELAY_IDLE_TIMEOUT}
    server redis 127.0.0.1:6379
"""


def start_haproxy(configuration: str, directory: pathlib.Path) -> subprocess.Popen[bytes]:
    """HAProxy (installed from Debian's packages if missing) in the foreground, its configuration
    checked first."""
    haproxy = ensure_debian_package("haproxy", "haproxy")
    path = directory / "haproxy.cfg"
    path.write_text(configuration)
    subprocess.run([haproxy, "-c", "-q", "-f", path], check=True, capture_output=True)
    log = (directory / "haproxy.log").open("ab")
    return subprocess.Popen(
        [haproxy, "-W", "-db", "-f", path],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
