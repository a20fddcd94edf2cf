"""The mint authority: the platform's keypair that pays for, creates and signs every ticket NFT.

Production gives it (`SOLANA_MINT_AUTHORITY_KEY`, a base58 secret key); elsewhere one is generated
once and kept in the data directory, so NFTs minted before a restart keep the same authority.
"""

import os
import pathlib

from solders.keypair import Keypair


def stored_authority_key(path: pathlib.Path) -> str:
    """The base58 secret key kept at `path`, generated there on first use, readable by us only."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret_key = str(Keypair())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(secret_key)
    return secret_key
