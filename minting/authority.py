"""The mint authority: the platform's keypair that pays for, creates and signs every ticket NFT.

Production gives it (`SOLANA_MINT_AUTHORITY_KEY`, a base58 secret key); elsewhere one is created
once and shared by every process of the system through Postgres (onsale.shared_secrets), so NFTs
minted before a restart, or by another node, keep the same authority.
"""

from solders.keypair import Keypair


def new_authority_key() -> str:
    """A new keypair's base58 secret key, the form SOLANA_MINT_AUTHORITY_KEY takes."""
    return str(Keypair())
