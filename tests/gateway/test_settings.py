"""Settings: read once from the environment; production refuses to start without every key."""

import pathlib
import subprocess
import sys

import pytest

from gateway.app import outside_parts
from gateway.settings import Environment, SettingsError, load_settings
from tests.gateway.stack import Outside, stack_parts

PRODUCTION_COMPLETE = {
    "ONSALE_ENV": "production",
    "DATABASE_URL": "postgresql://owner@db.internal:5432/onsale",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "STRIPE_API_KEY": "sk_live_abc123",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc123",
    "ONSALE_JWT_PUBLIC_KEY": (
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----"
    ),
    "SOLANA_RPC_URL": "https://rpc.internal",
    "SOLANA_MINT_AUTHORITY_KEY": "4wBqpZM9xaSheZzJSMawUKKwhdpChKbZ5eu5ky4Vigw",
    "SOLANA_CUSTODY_SEED": "c" * 48,
    "ONSALE_ACCESS_SECRET": "a" * 48,
    "SMTP_URL": "smtps://mailer:secret@smtp.internal:465",
}


def test_defaults_are_the_embedded_development_setup_when_nothing_is_set() -> None:
    settings = load_settings({})
    assert settings.environment is Environment.DEVELOPMENT
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8000, "./var")
    assert settings.database_url is None and settings.redis_url is None


def test_values_are_typed_when_read_from_strings() -> None:
    settings = load_settings({"ONSALE_PORT": "9001", "DATABASE_URL": "postgresql://x/y"})
    assert settings.port == 9001
    assert settings.database_url == "postgresql://x/y"


def test_an_invalid_value_is_named_when_it_cannot_be_read() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"ONSALE_PORT": "eight thousand"})
    assert raised.value.problems[0].startswith("ONSALE_PORT is invalid")


def test_production_starts_when_every_key_is_given() -> None:
    settings = load_settings(PRODUCTION_COMPLETE)
    assert settings.is_production


@pytest.mark.parametrize(
    ("environment", "private_allowed"),
    [({}, True), (PRODUCTION_COMPLETE, False)],
    ids=["development", "production"],
)
def test_webhooks_may_reach_private_addresses_only_outside_production(
    environment: dict[str, str], private_allowed: bool, tmp_path: pathlib.Path
) -> None:
    outside = Outside(
        stripe_api_base="http://127.0.0.1:8420",
        stripe_api_key="sk_test_onsale",
        stripe_webhook_secret="whsec_onsale",
        smtp_url="smtp://127.0.0.1:2525",
        mail_directory=tmp_path / "mail",
        solana_directory=tmp_path / "solana",
    )
    parts = stack_parts("postgresql://owner@127.0.0.1/onsale", "redis://127.0.0.1/0", 8000, outside)

    workers = outside_parts(load_settings(environment), parts)

    assert workers.webhooks_to_private_addresses is private_allowed


@pytest.mark.parametrize(
    "variable",
    [
        "DATABASE_URL",
        "REDIS_URL",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "ONSALE_JWT_PUBLIC_KEY",
        "SOLANA_RPC_URL",
        "SOLANA_MINT_AUTHORITY_KEY",
        "SOLANA_CUSTODY_SEED",
        "ONSALE_ACCESS_SECRET",
        "SMTP_URL",
    ],
)
def test_production_refuses_to_start_when_a_key_is_missing(variable: str) -> None:
    environment = {key: value for key, value in PRODUCTION_COMPLETE.items() if key != variable}
    with pytest.raises(SettingsError) as raised:
        load_settings(environment)
    assert [problem.split()[0] for problem in raised.value.problems] == [variable]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STRIPE_API_KEY", "sk_test_abc"),
        ("STRIPE_WEBHOOK_SECRET", "not-a-secret"),
        ("ONSALE_JWT_SECRET", "hs256-secret"),
        ("STRIPE_API_BASE", "http://127.0.0.1:8420"),
        ("ONSALE_ACCESS_SECRET", "short"),
        ("SOLANA_CUSTODY_SEED", "short"),
    ],
)
def test_production_refuses_to_start_when_a_key_is_wrong(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**PRODUCTION_COMPLETE, variable: value})
    assert [problem.split()[0] for problem in raised.value.problems] == [variable]


CLUSTER_PARTS = {
    "RAY_ADDRESS": "10.0.0.1:6379",
    "DATABASE_URL": "postgresql://owner@db.internal:5432/onsale",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "STRIPE_API_KEY": "sk_test_abc123",
    "STRIPE_API_BASE": "http://stripe.internal:8420",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc123",
    "SMTP_URL": "smtp://mail.internal:1025",
}


def test_cluster_gateway_starts_when_every_part_is_given_by_url() -> None:
    assert load_settings(CLUSTER_PARTS).ray_address == "10.0.0.1:6379"


@pytest.mark.parametrize("variable", ["DATABASE_URL", "REDIS_URL", "STRIPE_API_KEY", "SMTP_URL"])
def test_cluster_gateway_refuses_to_start_when_a_part_would_be_embedded(variable: str) -> None:
    environment = {key: value for key, value in CLUSTER_PARTS.items() if key != variable}
    with pytest.raises(SettingsError) as raised:
        load_settings(environment)
    assert [problem.split()[0] for problem in raised.value.problems] == [variable]
    assert "RAY_ADDRESS" in raised.value.problems[0]


def test_production_cluster_names_a_missing_part_once() -> None:
    environment = {**PRODUCTION_COMPLETE, "RAY_ADDRESS": "10.0.0.1:6379"}
    del environment["SMTP_URL"]
    with pytest.raises(SettingsError) as raised:
        load_settings(environment)
    assert [problem.split()[0] for problem in raised.value.problems] == ["SMTP_URL"]


def test_onsale_up_exits_non_zero_naming_each_missing_key_when_production_lacks_them() -> None:
    environment = {"ONSALE_ENV": "production", "STRIPE_API_KEY": "sk_test_x", "PATH": "/usr/bin"}
    finished = subprocess.run(
        [sys.executable, "-m", "onsale.cli", "up"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    for variable in (
        "DATABASE_URL",
        "REDIS_URL",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "ONSALE_JWT_PUBLIC_KEY",
        "SOLANA_RPC_URL",
        "SOLANA_MINT_AUTHORITY_KEY",
    ):
        assert variable in finished.stderr
    assert "Traceback" not in finished.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SMTP_URL", "http://smtp.internal"), ("ONSALE_MAIL_FROM", "tickets at example")],
)
def test_start_is_refused_naming_the_variable_when_mail_is_misconfigured(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})
    assert [problem.split()[0] for problem in refused.value.problems] == [variable]


def test_start_is_refused_naming_the_variable_when_a_rate_limit_is_zero() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"ONSALE_RATE_LIMIT_ADDRESS_PER_S": "0"})
    assert "ONSALE_RATE_LIMIT_ADDRESS_PER_S" in str(refused.value)


def test_trusted_proxies_are_read_when_given_as_addresses_and_networks() -> None:
    settings = load_settings({"ONSALE_TRUSTED_PROXIES": "10.0.0.7, 10.1.0.0/16, fd00::/8"})
    assert settings.trusted_proxies == "10.0.0.7, 10.1.0.0/16, fd00::/8"
    assert load_settings({}).trusted_proxies == ""


def test_start_is_refused_naming_the_variable_and_entry_when_a_trusted_proxy_is_bad() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"ONSALE_TRUSTED_PROXIES": "10.0.0.7, lb.internal"})
    [problem] = refused.value.problems
    assert problem.startswith("ONSALE_TRUSTED_PROXIES is invalid") and "'lb.internal'" in problem
