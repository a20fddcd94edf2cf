"""Every process of one system resolves the same shared secrets: configured ones as given, the
rest created once in Postgres by whichever process starts first, a data directory's old file
offered first so its wallets keep their addresses."""

import asyncio
import pathlib
import threading

import pytest
from solders.keypair import Keypair

from gateway.settings import Environment, Settings
from onsale.shared_secrets import SharedSecrets, resolve_shared_secrets
from persistence.migrate import migrate


@pytest.fixture
def owner_url(empty_database_url: str) -> str:
    asyncio.run(migrate(empty_database_url))
    return empty_database_url


def settings_in(data_path: pathlib.Path, **configured: str) -> Settings:
    return Settings(data_dir=str(data_path), **configured)  # type: ignore[arg-type]


def test_two_gateways_with_their_own_data_directories_share_every_secret(
    owner_url: str, tmp_path: pathlib.Path
) -> None:
    first = resolve_shared_secrets(settings_in(tmp_path / "a"), owner_url)
    second = resolve_shared_secrets(settings_in(tmp_path / "b"), owner_url)

    assert first == second
    assert len(first.access_secret) >= 32 and len(first.custody_seed) >= 32
    assert first.jwt_secret is not None and first.jwt_secret != first.access_secret
    Keypair.from_base58_string(first.mint_authority_key)


def test_gateways_starting_together_agree_on_one_value(
    owner_url: str, tmp_path: pathlib.Path
) -> None:
    resolved: list[SharedSecrets] = []

    def start(name: str) -> None:
        resolved.append(resolve_shared_secrets(settings_in(tmp_path / name), owner_url))

    starters = [threading.Thread(target=start, args=(f"gateway-{i}",)) for i in range(4)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()

    assert len(resolved) == 4
    assert all(secrets == resolved[0] for secrets in resolved)


def test_configured_secret_is_used_as_given_and_the_others_still_shared(
    owner_url: str, tmp_path: pathlib.Path
) -> None:
    stored = resolve_shared_secrets(settings_in(tmp_path / "a"), owner_url)
    configured = resolve_shared_secrets(
        settings_in(tmp_path / "b", access_secret="c" * 40, solana_custody_seed="d" * 40),
        owner_url,
    )

    assert (configured.access_secret, configured.custody_seed) == ("c" * 40, "d" * 40)
    assert configured.mint_authority_key == stored.mint_authority_key
    assert configured.jwt_secret == stored.jwt_secret


def test_data_directory_file_becomes_the_shared_secret_when_none_is_stored(
    owner_url: str, tmp_path: pathlib.Path
) -> None:
    old_seed = "e" * 48
    (tmp_path / "old" / "solana").mkdir(parents=True)
    (tmp_path / "old" / "solana" / "custody_seed").write_text(old_seed + "\n")

    from_old = resolve_shared_secrets(settings_in(tmp_path / "old"), owner_url)
    from_new = resolve_shared_secrets(settings_in(tmp_path / "new"), owner_url)

    assert from_old.custody_seed == from_new.custody_seed == old_seed


def test_production_has_no_development_token_secret(owner_url: str, tmp_path: pathlib.Path) -> None:
    production = Settings(
        environment=Environment.PRODUCTION,
        data_dir=str(tmp_path),
        access_secret="c" * 40,
        solana_mint_authority_key=str(Keypair()),
        solana_custody_seed="d" * 40,
    )

    assert resolve_shared_secrets(production, owner_url).jwt_secret is None
