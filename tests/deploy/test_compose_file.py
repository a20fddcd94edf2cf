"""docker-compose.yml holds together without a Docker engine: its services, what each gateway is
given (every variable one the gateway or Ray reads, every secret of the length it needs, settings
that load), who publishes which port, the volumes, the order of start, and the Ray cluster, Stripe
and mail each gateway is pointed at."""

import argparse
import ipaddress
import json
import shlex
from typing import Any

import pytest
from solders.keypair import Keypair

from actors.placement import node_resources
from engine import limits
from gateway.settings import ACCESS_SECRET_CHARACTERS_MIN, ENVIRONMENT_VARIABLES, load_settings
from onsale.node import ray_start_arguments
from onsale.node_arguments import add_node_arguments
from onsale.runtime import STRIPE_WEBHOOK_PATH
from tests.deploy.compose_file import compose_file, environment_of, volume_mounts
from tests.deploy.haproxy_config import haproxy_config

GATEWAYS = ("gateway-1", "gateway-2")
RAY_NODES = ("ray-head", "ray-worker", *GATEWAYS)
# Read by Ray itself, in every node and driver: token authentication and usage reports.
RAY_VARIABLES = frozenset({"RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED"})
# The balancer's addresses, whose X-Forwarded-For the gateways believe: checked on its own below,
# where its value must be the compose network.
TRUSTED_PROXIES_VARIABLE = "ONSALE_TRUSTED_PROXIES"
HEALTHY = "service_healthy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return compose_file()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


@pytest.fixture(scope="module")
def gateway_environment(services: dict[str, Any]) -> dict[str, str]:
    return environment_of(services["gateway-1"])


def command_of(service: dict[str, Any]) -> list[str]:
    """A service's command as words; a `sh -c` script split into its own words."""
    command: list[str] = service["command"]
    if command[:2] == ["sh", "-c"]:
        return shlex.split(command[2])
    return command


def option_value(command: list[str], option: str) -> str:
    [value] = [word.split("=", 1)[1] for word in command if word.startswith(f"{option}=")]
    return value


def argument_after(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def network_subnet(compose: dict[str, Any]) -> ipaddress.IPv4Network:
    [config] = compose["networks"]["default"]["ipam"]["config"]
    return ipaddress.IPv4Network(config["subnet"])


def test_the_stack_has_its_services(services: dict[str, Any]) -> None:
    assert set(services) == {
        "postgres",
        "redis",
        "ray-head",
        "ray-worker",
        *GATEWAYS,
        "balancer",
        "mailpit",
        "localstripe",
    }


def test_both_gateways_are_given_the_same_environment(services: dict[str, Any]) -> None:
    assert environment_of(services["gateway-1"]) == environment_of(services["gateway-2"])
    assert services["gateway-1"]["command"] == services["gateway-2"]["command"]


def test_every_gateway_variable_is_a_setting_of_the_gateway_or_of_ray(
    gateway_environment: dict[str, str],
) -> None:
    unknown = set(gateway_environment) - set(ENVIRONMENT_VARIABLES) - RAY_VARIABLES
    assert unknown <= {TRUSTED_PROXIES_VARIABLE}


def test_the_gateways_trust_forwarded_addresses_from_the_compose_network_only(
    compose: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    trusted = [
        ipaddress.ip_network(entry.strip())
        for entry in gateway_environment[TRUSTED_PROXIES_VARIABLE].split(",")
    ]
    assert trusted == [network_subnet(compose)]


def test_the_gateway_settings_load_from_the_compose_environment(
    gateway_environment: dict[str, str],
) -> None:
    settings = load_settings(gateway_environment)
    assert settings.database_url and settings.redis_url and settings.ray_address
    assert settings.smtp_url and settings.stripe_api_key and settings.stripe_api_base


def test_every_secret_has_the_length_it_needs(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    environment = gateway_environment
    assert len(environment["ONSALE_JWT_SECRET"].encode()) >= limits.JWT_SECRET_BYTES_MIN
    assert len(environment["ONSALE_ACCESS_SECRET"]) >= ACCESS_SECRET_CHARACTERS_MIN
    assert len(environment["ONSALE_ACCESS_SECRET"].encode()) >= (
        limits.ACCESS_TOKEN_SECRET_BYTES_MIN
    )
    assert len(environment["SOLANA_CUSTODY_SEED"]) >= limits.CUSTODY_SEED_CHARACTERS_MIN
    Keypair.from_base58_string(environment["SOLANA_MINT_AUTHORITY_KEY"])
    assert environment["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
    assert environment["STRIPE_API_KEY"].startswith("sk_test_")
    for node in RAY_NODES:
        assert environment_of(services[node])["RAY_AUTH_MODE"] == "token"
        assert environment_of(services[node])["RAY_AUTH_TOKEN"] == environment["RAY_AUTH_TOKEN"]


def test_the_database_urls_carry_the_password_postgres_is_given(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    postgres = environment_of(services["postgres"])
    owner = f"{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres:5432/"
    assert gateway_environment["DATABASE_URL"] == (f"postgresql://{owner}{postgres['POSTGRES_DB']}")
    assert gateway_environment["DATABASE_SERVICE_URL"].endswith(
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )


def test_only_the_balancer_publishes_a_port_and_mail_is_seen_from_this_machine_only(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    assert set(published) == {"balancer", "mailpit"}
    [balancer_port] = published["balancer"]
    assert balancer_port == f"{haproxy_config().bind_port}:{haproxy_config().bind_port}"
    assert all(port.startswith("127.0.0.1:") for port in published["mailpit"])
    assert gateway_environment["ONSALE_HOST"] == "0.0.0.0"


def test_the_balancer_sends_to_each_gateway_on_its_port_and_checks_its_readiness(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    config = haproxy_config()
    port = int(gateway_environment["ONSALE_PORT"])
    assert config.servers == {gateway: (gateway, port) for gateway in GATEWAYS}
    assert config.health_check_path == "/health/ready"
    [mount] = services["balancer"]["volumes"]
    assert mount.startswith("./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg")


def test_each_gateway_keeps_its_own_data_dir_and_every_ray_node_the_chains_accounts(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    data_dir = gateway_environment["ONSALE_DATA_DIR"]
    own = [volume_mounts(services[gateway]) for gateway in GATEWAYS]
    assert [mounts[f"{gateway}-data"] for gateway, mounts in zip(GATEWAYS, own, strict=True)] == [
        data_dir,
        data_dir,
    ]
    for node in RAY_NODES:
        assert volume_mounts(services[node])["solana-data"] == f"{data_dir}/solana", node


def test_every_named_volume_is_declared_and_used(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    used = {volume for service in services.values() for volume in volume_mounts(service)}
    assert used == set(compose["volumes"])
    assert {"postgres-data", "redis-data", "stripe-data"} <= used


def test_each_service_waits_for_what_it_needs_and_what_it_waits_healthy_for_has_a_check(
    services: dict[str, Any],
) -> None:
    for gateway in GATEWAYS:
        waits = services[gateway]["depends_on"]
        for part in ("postgres", "redis", "ray-head", "localstripe"):
            assert waits[part]["condition"] == HEALTHY, (gateway, part)
        assert "mailpit" in waits
    assert services["ray-worker"]["depends_on"]["ray-head"]["condition"] == HEALTHY
    assert set(services["balancer"]["depends_on"]) == set(GATEWAYS)
    awaited = {
        part
        for service in services.values()
        for part, wait in service.get("depends_on", {}).items()
        if wait["condition"] == HEALTHY
    }
    for part in awaited:
        assert "test" in services[part]["healthcheck"], part


def ray_start_of(onsale_node: list[str]) -> list[str]:
    """The `ray start` command line an `onsale node ...` command runs."""
    assert onsale_node[:2] == ["onsale", "node"], onsale_node
    parser = argparse.ArgumentParser()
    add_node_arguments(parser)
    command = ray_start_arguments(parser.parse_args(onsale_node[2:]))
    return command[command.index("start") :]


def test_the_ray_nodes_form_one_cluster_with_event_actor_slots_on_the_head_and_the_worker(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    head = ray_start_of(command_of(services["ray-head"]))
    worker = ray_start_of(command_of(services["ray-worker"]))
    head_address = f"ray-head:{option_value(head, '--port')}"

    assert gateway_environment["RAY_ADDRESS"] == head_address
    assert "--head" in head and option_value(worker, "--address") == head_address
    assert json.loads(option_value(head, "--resources")) == node_resources()
    assert json.loads(option_value(worker, "--resources")) == node_resources(
        hosts_local_chain=False
    )
    assert "--block" in head and "--block" in worker


def test_a_gateway_joins_the_cluster_as_a_node_without_actor_slots_then_serves(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    command = command_of(services["gateway-1"])
    separator = command.index("&&")
    node, serve = ray_start_of(command[:separator]), command[separator + 1 :]

    assert option_value(node, "--address") == gateway_environment["RAY_ADDRESS"]
    assert option_value(node, "--num-cpus") == "0"
    assert json.loads(option_value(node, "--resources")) == node_resources(
        0, hosts_local_chain=False
    )
    assert "--block" not in node
    assert serve == ["exec", "onsale", "up"]
    assert services["gateway-1"]["init"] is True


def test_the_gateways_call_localstripe_and_its_webhooks_reach_them_through_the_balancer(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    localstripe = services["localstripe"]
    command = command_of(localstripe)
    assert command[:3] == ["python", "-m", "embedded.stripe_server"]
    port = argument_after(command, "--port")
    assert gateway_environment["STRIPE_API_BASE"] == f"http://localstripe:{port}"
    assert argument_after(command, "--webhook-url") == (
        f"http://balancer:{haproxy_config().bind_port}{STRIPE_WEBHOOK_PATH}"
    )
    secret = environment_of(localstripe)["STRIPE_WEBHOOK_SECRET"]
    assert secret == gateway_environment["STRIPE_WEBHOOK_SECRET"]
    assert "embedded" in localstripe["build"]["args"]["ONSALE_EXTRAS"].split()
    store = argument_after(command, "--store")
    assert store.startswith(volume_mounts(localstripe)["stripe-data"] + "/")


def test_mail_goes_to_mailpit(
    services: dict[str, Any], gateway_environment: dict[str, str]
) -> None:
    assert gateway_environment["SMTP_URL"] == "smtp://mailpit:1025"
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
