"""The keys the platform derives from its custody seed: each fan's custodial wallet and each
ticket's mint account.

Both are HMAC-SHA256 of the seed over a labelled message, so they are functions of the fan and of
the ticket: a restart, another worker or a retry after a crash derives the same keys, and a ticket
can never get a second mint address. The labels keep the two families apart; changing a label or
the seed moves every custodial wallet, so neither ever changes once fans hold NFTs.
"""

import hashlib
import hmac
import uuid

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from engine import limits

FAN_LABEL = b"fan:"
MINT_LABEL = b"mint:"


class Custody:
    def __init__(self, seed: str) -> None:
        assert len(seed) >= limits.CUSTODY_SEED_CHARACTERS_MIN, "the custody seed is too short"
        self._seed = seed.encode()

    def _keypair(self, message: bytes) -> Keypair:
        return Keypair.from_seed(hmac.digest(self._seed, message, hashlib.sha256))

    def fan_keypair(self, tenant_id: uuid.UUID, user_id: str) -> Keypair:
        """The fan's custodial wallet; a fan is a user of one tenant, so both name it."""
        return self._keypair(FAN_LABEL + tenant_id.bytes + user_id.encode())

    def mint_keypair(self, ticket_id: uuid.UUID) -> Keypair:
        return self._keypair(MINT_LABEL + ticket_id.bytes)

    def owner_address(
        self, tenant_id: uuid.UUID, user_id: str, registered_address: str | None
    ) -> Pubkey:
        """Where the fan's NFTs go: a wallet the fan registered wins over the custodial one."""
        if registered_address is not None:
            return Pubkey.from_string(registered_address)
        return self.fan_keypair(tenant_id, user_id).pubkey()
