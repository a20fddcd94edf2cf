"""The keys minting derives: functions of the seed, the fan and the ticket; a new authority is a
keypair of its own."""

import uuid

from solders.keypair import Keypair

from minting.authority import new_authority_key
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


def test_new_authority_key_is_a_keypair_of_its_own_each_time() -> None:
    first, second = new_authority_key(), new_authority_key()

    assert Keypair.from_base58_string(first).pubkey() != Keypair.from_base58_string(second).pubkey()


def test_registered_wallet_wins_over_the_custodial_one_when_the_fan_has_one() -> None:
    custody, tenant_id = Custody("a" * 32), uuid.uuid4()
    registered = Keypair().pubkey()

    assert custody.owner_address(tenant_id, "fan-1", str(registered)) == registered
    assert (
        custody.owner_address(tenant_id, "fan-1", None)
        == custody.fan_keypair(tenant_id, "fan-1").pubkey()
    )
