"""deploy/haproxy.cfg is a configuration HAProxy accepts (Debian's, the version of the compose
file's image, installed here when missing), checking each gateway on a readiness route the gateway
serves and passing the client's address on."""

import re
import subprocess

from gateway.routes.health import router as health_router
from loadtests.debian_packages import ensure_debian_package
from tests.deploy.haproxy_config import HAPROXY_CONFIG, haproxy_config

# The gateways' names resolve on the compose network only; here each server starts disabled.
UNRESOLVED_SERVER_WARNING = re.compile(r"could not resolve address '(?P<host>[^']+)'")


def test_haproxy_accepts_the_configuration_and_only_the_gateways_names_are_unresolved() -> None:
    haproxy = ensure_debian_package("haproxy", "/usr/sbin/haproxy")
    checked = subprocess.run(
        [str(haproxy), "-c", "-f", str(HAPROXY_CONFIG)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    warnings = [line for line in output.splitlines() if "[WARNING]" in line]
    unresolved = {
        match["host"] for line in warnings if (match := UNRESOLVED_SERVER_WARNING.search(line))
    }
    assert len(unresolved) == len(warnings), output
    assert unresolved == {host for host, _ in haproxy_config().servers.values()}


def test_the_health_check_path_is_a_route_of_the_gateway() -> None:
    paths = {getattr(route, "path", None) for route in health_router.routes}
    assert haproxy_config().health_check_path in paths


def test_the_client_address_is_forwarded_to_the_gateways() -> None:
    assert re.search(r"^\s*option\s+forwardfor\b", HAPROXY_CONFIG.read_text(), re.MULTILINE)
