"""Where each part of the running system answers, as resolved at start: configured or embedded.

The runtime resolves these once and hands them to the app; `onsale up` also writes them to its
runtime file (embedded/runtime_file.py), so that other commands on the same machine can find them.
"""

import msgspec


class Parts(msgspec.Struct, frozen=True, kw_only=True):
    gateway_url: str
    # every metric, each live event's figures too when enabled: for a private network only
    metrics_url: str
    database_url: str
    database_service_url: str
    redis_url: str
    ray_address: str
    stripe_api_base: str | None
    stripe_api_key: str
    stripe_webhook_secret: str
    access_secret: str
    jwt_secret: str | None
    embedded: list[str]
    smtp_url: str
    solana_rpc_url: str | None
    # where the embedded chain keeps its accounts; unused when a cluster's RPC is configured
    solana_directory: str
    mint_authority_key: str
    custody_seed: str
