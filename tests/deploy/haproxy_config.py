"""deploy/haproxy.cfg read for what the compose file must agree with: the port the balancer binds,
the servers it sends to and the path it checks them on."""

import re

import msgspec

from tests.conftest import PROJECT_ROOT

HAPROXY_CONFIG = PROJECT_ROOT / "deploy" / "haproxy.cfg"


class HaproxyConfig(msgspec.Struct, frozen=True, kw_only=True):
    bind_port: int
    # each server's name, with the host and port it is reached at
    servers: dict[str, tuple[str, int]]
    health_check_path: str


def haproxy_config() -> HaproxyConfig:
    text = HAPROXY_CONFIG.read_text()
    [bind_port] = re.findall(r"^\s*bind\s+:(\d+)\s*$", text, re.MULTILINE)
    servers = {
        name: (host, int(port))
        for name, host, port in re.findall(
            r"^\s*server\s+(\S+)\s+([^\s:]+):(\d+)", text, re.MULTILINE
        )
    }
    [path] = re.findall(r"^\s*option\s+httpchk\s+GET\s+(\S+)\s*$", text, re.MULTILINE)
    return HaproxyConfig(bind_port=int(bind_port), servers=servers, health_check_path=path)
