"""The keys minting derives and keeps: functions of the seed, the fan and the ticket, and an
authority generated once per data directory."""

import pathlib
import stat
import uuid

from solders.keypair import Keypair

from minting.authority import stored_authority_key
from minting.custody import Custody


def test_keys_are_functions_of_the_seed_the_fan_and_the_ticket() -> None:
    tenant_id, ticket_id = uuid.uuid4(), uuid.uuid4()
    custody = Custody("a" * 32)

    assert custody.fan_keypair(tenant_id, "fan-1") == Custody("a" * 32).fan_keypair(
        tenant_id, "fan-1"
    )
    assert custody.mint_keypair(ticket_id) == Custody("a" * 32).mint_keypair(ticket_id)
    assert custody.fan_keypair(tenant_id, "fan-1") != custody.fan_keypair(uuid.uuid4(), "fan-1")
    assert custody.fan_keypair(tenant_id, "fan-1") != Custody("b" * 32).fan_keypair(
        tenant_id, "fan-1"
    )
    assert custody.mint_keypair(ticket_id) != custody.mint_keypair(uuid.uuid4())


def test_authority_key_is_generated_once_and_kept_private_when_none_is_given(
    chain_directory: pathlib.Path,
) -> None:
    path = chain_directory / "solana" / "mint_authority.key"

    first = stored_authority_key(path)
    second = stored_authority_key(path)

    assert first == second
    assert Keypair.from_base58_string(first).pubkey() != Keypair().pubkey()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_registered_wallet_wins_over_the_custodial_one_when_the_fan_has_one() -> None:
    custody, tenant_id = Custody("a" * 32), uuid.uuid4()
    registered = Keypair().pubkey()

    assert custody.owner_address(tenant_id, "fan-1", str(registered)) == registered
    assert (
        custody.owner_address(tenant_id, "fan-1", None)
        == custody.fan_keypair(tenant_id, "fan-1").pubkey()
    )
