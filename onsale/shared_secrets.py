"""The secrets every process of one system shares, resolved once as it starts.

A secret configuration names is used as given (production names them all). Any other lives in
Postgres (persistence.cluster_secrets): the first process to start creates it and every gateway
and node after reads the same one, so a fan admitted through one gateway is admitted by all, and
the custodial wallets and the mint authority never depend on which process started first. A data
directory that kept such a secret in a file before offers that file's value, so its wallets and
NFTs keep their addresses.
"""

import asyncio
import pathlib
import secrets
from collections.abc import Callable

import msgspec

from gateway.settings import Settings
from minting.authority import new_authority_key
from persistence.cluster_secrets import shared_secrets

SECRET_BYTES = 24
ACCESS_SECRET = "access_secret"
JWT_SECRET = "jwt_secret"
MINT_AUTHORITY_KEY = "mint_authority_key"
CUSTODY_SEED = "custody_seed"
# Where a data directory kept each secret before they were shared, relative to it.
LEGACY_FILES = {
    ACCESS_SECRET: "access_secret",
    JWT_SECRET: "jwt_secret",
    MINT_AUTHORITY_KEY: "solana/mint_authority.key",
    CUSTODY_SEED: "solana/custody_seed",
}


class SharedSecrets(msgspec.Struct, frozen=True, kw_only=True):
    access_secret: str
    # production verifies public-key tokens only: no HS256 secret exists there
    jwt_secret: str | None
    mint_authority_key: str
    custody_seed: str


def new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)


def candidate(data_path: pathlib.Path, name: str, make: Callable[[], str]) -> str:
    """The value a data directory kept for `name`, else a new one."""
    legacy = data_path / LEGACY_FILES[name]
    return legacy.read_text().strip() if legacy.exists() else make()


def resolve_shared_secrets(settings: Settings, owner_url: str) -> SharedSecrets:
    configured: dict[str, str | None] = {
        ACCESS_SECRET: settings.access_secret,
        MINT_AUTHORITY_KEY: settings.solana_mint_authority_key,
        CUSTODY_SEED: settings.solana_custody_seed,
    }
    if not settings.is_production:
        configured[JWT_SECRET] = settings.jwt_secret
    makers = {MINT_AUTHORITY_KEY: new_authority_key}
    candidates = {
        name: candidate(settings.data_path, name, makers.get(name, new_secret))
        for name, value in configured.items()
        if not value
    }
    stored = asyncio.run(shared_secrets(owner_url, candidates)) if candidates else {}
    resolved = {name: value or stored[name] for name, value in configured.items()}
    return SharedSecrets(
        access_secret=resolved[ACCESS_SECRET],
        jwt_secret=resolved.get(JWT_SECRET),
        mint_authority_key=resolved[MINT_AUTHORITY_KEY],
        custody_seed=resolved[CUSTODY_SEED],
    )
