"""Where the outside world is (Stripe, SMTP, Solana) and with which keys: the composition root
resolves it once, the cluster's start-up hands it to the Supervisor, which starts the workers
from it."""

import msgspec


class OutsideParts(msgspec.Struct, frozen=True, kw_only=True):
    stripe_api_key: str
    stripe_api_base: str | None
    smtp_url: str
    mail_from: str
    solana_rpc_url: str | None
    # where the embedded chain keeps its accounts, when no cluster is configured
    solana_directory: str
    mint_authority_key: str
    custody_seed: str
    # outside production, venue webhooks may go to private addresses (local receivers)
    webhooks_to_private_addresses: bool
