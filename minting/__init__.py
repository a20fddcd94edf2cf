"""Ticket NFTs on Solana: one Token-2022 NFT per issued ticket, at an address that is a function of
the ticket, minted by the platform's authority into the fan's wallet.

Nothing here knows Ray or Postgres: the mint worker in `actors/` reads and records, this package
derives keys, builds and signs transactions, and talks to a chain through `ChainBackend`.
"""
