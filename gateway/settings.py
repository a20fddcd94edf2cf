"""The one typed settings object, read from the environment once, by the composition roots only.

Every variable is listed in README's configuration table with its default. Outside production an
unset URL means "start that part embedded"; in production every key must be given, and a missing
or wrong one stops the start with a message naming it (never a silent fallback).
"""

import enum
import os
import pathlib
from collections.abc import Mapping
from typing import Annotated

import msgspec

from engine import limits
from gateway.client_addresses import TrustedProxies

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"
DEFAULT_DATA_DIR = "./var"
DEFAULT_MAIL_FROM = "tickets@onsale.localhost"
MAIL_ADDRESS_PATTERN = r"^[^@\s<>]+@[^@\s<>]+$"
SMTP_URL_PATTERN = r"^smtps?://"
ACCESS_SECRET_CHARACTERS_MIN = 32


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    environment: Environment = Environment.DEVELOPMENT
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    metrics_host: str = DEFAULT_HOST
    # None: a free port, named in runtime.json as `metrics_url`
    metrics_port: int | None = None
    metrics_event_labels: bool = False
    data_dir: str = DEFAULT_DATA_DIR
    log_level: str = "INFO"
    database_url: str | None = None
    database_service_url: str | None = None
    redis_url: str | None = None
    ray_address: str | None = None
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = None
    solana_rpc_url: str | None = None
    solana_mint_authority_key: str | None = None
    solana_custody_seed: str | None = None
    smtp_url: Annotated[str, msgspec.Meta(pattern=SMTP_URL_PATTERN)] | None = None
    mail_from: Annotated[str, msgspec.Meta(pattern=MAIL_ADDRESS_PATTERN)] = DEFAULT_MAIL_FROM
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    token_lifetime_s_max: Annotated[int, msgspec.Meta(ge=1)] = limits.TOKEN_LIFETIME_S_MAX
    access_secret: str | None = None
    rate_limit_fan_per_s: Annotated[int, msgspec.Meta(ge=1)] = limits.RATE_LIMIT_FAN_PER_S
    rate_limit_address_per_s: Annotated[int, msgspec.Meta(ge=1)] = limits.RATE_LIMIT_ADDRESS_PER_S
    actor_idle_retire_s: Annotated[int, msgspec.Meta(ge=1)] = (
        limits.ACTOR_IDLE_RETIRE_MS // limits.MILLISECONDS_PER_SECOND
    )
    # The load balancers' addresses and networks, comma-separated: gateway.client_addresses
    trusted_proxies: str = ""

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def data_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir).resolve()


ENVIRONMENT_VARIABLES: dict[str, str] = {
    "ONSALE_ENV": "environment",
    "ONSALE_HOST": "host",
    "ONSALE_PORT": "port",
    "ONSALE_METRICS_HOST": "metrics_host",
    "ONSALE_METRICS_PORT": "metrics_port",
    "ONSALE_METRICS_EVENT_LABELS": "metrics_event_labels",
    "ONSALE_DATA_DIR": "data_dir",
    "ONSALE_LOG_LEVEL": "log_level",
    "DATABASE_URL": "database_url",
    "DATABASE_SERVICE_URL": "database_service_url",
    "REDIS_URL": "redis_url",
    "RAY_ADDRESS": "ray_address",
    "STRIPE_API_KEY": "stripe_api_key",
    "STRIPE_API_BASE": "stripe_api_base",
    "STRIPE_WEBHOOK_SECRET": "stripe_webhook_secret",
    "SOLANA_RPC_URL": "solana_rpc_url",
    "SOLANA_MINT_AUTHORITY_KEY": "solana_mint_authority_key",
    "SOLANA_CUSTODY_SEED": "solana_custody_seed",
    "SMTP_URL": "smtp_url",
    "ONSALE_MAIL_FROM": "mail_from",
    "ONSALE_JWT_SECRET": "jwt_secret",
    "ONSALE_JWT_PUBLIC_KEY": "jwt_public_key",
    "ONSALE_TOKEN_LIFETIME_MAX_S": "token_lifetime_s_max",
    "ONSALE_ACCESS_SECRET": "access_secret",
    "ONSALE_RATE_LIMIT_FAN_PER_S": "rate_limit_fan_per_s",
    "ONSALE_RATE_LIMIT_ADDRESS_PER_S": "rate_limit_address_per_s",
    "ONSALE_ACTOR_IDLE_S": "actor_idle_retire_s",
    "ONSALE_TRUSTED_PROXIES": "trusted_proxies",
}


class SettingsError(Exception):
    """The environment cannot start the service; `problems` names each variable at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("cannot start:\n" + "\n".join(f"  - {problem}" for problem in problems))


def production_problems(settings: Settings) -> list[str]:
    """Every missing or wrong production key, each named by its variable."""
    problems = []
    if not settings.database_url:
        problems.append("DATABASE_URL is missing: production never starts an embedded Postgres")
    if not settings.redis_url:
        problems.append("REDIS_URL is missing: production never starts an embedded Redis")
    if not settings.stripe_api_key:
        problems.append("STRIPE_API_KEY is missing: production needs a live key (sk_live_...)")
    elif not settings.stripe_api_key.startswith("sk_live_"):
        problems.append("STRIPE_API_KEY is not a live key: production needs sk_live_...")
    if not settings.stripe_webhook_secret:
        problems.append("STRIPE_WEBHOOK_SECRET is missing: production needs whsec_...")
    elif not settings.stripe_webhook_secret.startswith("whsec_"):
        problems.append("STRIPE_WEBHOOK_SECRET is not a webhook signing secret (whsec_...)")
    if settings.stripe_api_base:
        problems.append("STRIPE_API_BASE is set: production talks to the real Stripe API only")
    if not settings.jwt_public_key:
        problems.append("ONSALE_JWT_PUBLIC_KEY is missing: production verifies EdDSA or RS256")
    if settings.jwt_secret:
        problems.append("ONSALE_JWT_SECRET is set: production refuses HS256 tokens; unset it")
    if not settings.access_secret:
        problems.append("ONSALE_ACCESS_SECRET is missing: it signs waiting-room access tokens")
    elif len(settings.access_secret) < ACCESS_SECRET_CHARACTERS_MIN:
        problems.append(
            "ONSALE_ACCESS_SECRET is too short: "
            f"use at least {ACCESS_SECRET_CHARACTERS_MIN} characters"
        )
    if not settings.solana_rpc_url:
        problems.append("SOLANA_RPC_URL is missing: production mints on a real cluster")
    if not settings.solana_mint_authority_key:
        problems.append("SOLANA_MINT_AUTHORITY_KEY is missing: production needs the mint authority")
    if not settings.solana_custody_seed:
        problems.append("SOLANA_CUSTODY_SEED is missing: it derives fans' custodial wallets")
    elif len(settings.solana_custody_seed) < limits.CUSTODY_SEED_CHARACTERS_MIN:
        problems.append(
            "SOLANA_CUSTODY_SEED is too short: "
            f"use at least {limits.CUSTODY_SEED_CHARACTERS_MIN} characters"
        )
    if not settings.smtp_url:
        problems.append("SMTP_URL is missing: production never starts an embedded SMTP sink")
    return problems


def cluster_problems(settings: Settings) -> list[str]:
    """What stops a gateway joining a Ray cluster (RAY_ADDRESS): an embedded part listens on this
    machine's loopback only, so each part an actor on another node uses must be given by URL."""
    needed = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "STRIPE_API_KEY": settings.stripe_api_key,
        "SMTP_URL": settings.smtp_url,
    }
    return [
        f"{variable} is missing: with RAY_ADDRESS set, actors on every node must reach it"
        for variable, value in needed.items()
        if not value
    ]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings once; raise SettingsError naming every variable at fault."""
    source = os.environ if environ is None else environ
    values = {
        field: source[variable]
        for variable, field in ENVIRONMENT_VARIABLES.items()
        if source.get(variable, "") != ""
    }
    try:
        settings = msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as error:
        field = str(error).rpartition("$.")[2].rstrip("`")
        variable = next((name for name, f in ENVIRONMENT_VARIABLES.items() if f == field), field)
        raise SettingsError([f"{variable} is invalid: {error}"]) from None
    try:
        TrustedProxies.parse(settings.trusted_proxies)
    except ValueError as error:
        raise SettingsError([f"ONSALE_TRUSTED_PROXIES is invalid: {error}"]) from None
    # Production requires every part by URL already, a cluster's among them.
    if settings.is_production:
        problems = production_problems(settings)
    else:
        problems = cluster_problems(settings) if settings.ray_address else []
    if problems:
        raise SettingsError(problems)
    return settings
