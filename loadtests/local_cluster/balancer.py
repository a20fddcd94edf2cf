"""HAProxy in front of the gateways, as production runs it, and relaying this machine's Postgres
and Redis (which listen on its loopback) to an address the other node reaches.

The gateways' backend is checked every half second on `/health/ready`; a gateway that stops
answering leaves the rotation after two failed checks, and a request whose connection to it fails
is sent to the other (`retry-on conn-failure` with `redispatch`): only a request that never
reached a gateway is sent again. Each request carries the fan's address in X-Forwarded-For.
"""

import csv
import pathlib
import socket
import subprocess

import msgspec

from loadtests.debian_packages import ensure_debian_package

HAPROXY = "/usr/sbin/haproxy"
CHECK_INTERVAL_MS = 500
STATS_TIMEOUT_S = 5.0
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


def haproxy_configuration(
    address: str, ports: BalancerPorts, gateways: list[Gateway], stats_socket: pathlib.Path
) -> str:
    servers = "\n".join(
        f"    server {gateway.name} {gateway.address}:{gateway.port} "
        f"check inter {CHECK_INTERVAL_MS} fall 2 rise 2"
        for gateway in gateways
    )
    return f"""global
    maxconn 4000
    stats socket {stats_socket} mode 600 level user

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


def gateway_states(stats_socket: pathlib.Path) -> dict[str, str]:
    """Each gateway's state as the balancer sees it (`UP`, `DOWN`, ...), by its name."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(STATS_TIMEOUT_S)
        connection.connect(str(stats_socket))
        connection.sendall(b"show stat\n")
        answer = b""
        while chunk := connection.recv(65_536):
            answer += chunk
    header, *rows = answer.decode().lstrip("# ").splitlines()
    columns = header.split(",")
    states = {}
    for row in csv.reader(rows):
        fields = dict(zip(columns, row, strict=False))
        if fields.get("pxname") == "gateways" and fields.get("svname") not in (
            "FRONTEND",
            "BACKEND",
        ):
            states[fields["svname"]] = fields["status"]
    return states


def start_haproxy(configuration: str, directory: pathlib.Path) -> subprocess.Popen[bytes]:
    """HAProxy (installed from Debian's packages if missing) in the foreground, its configuration
    checked first."""
    haproxy = ensure_debian_package("haproxy", HAPROXY)
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
