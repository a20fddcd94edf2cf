"""Where each part of the running system answers, as resolved at start: configured or embedded.

The runtime resolves these once and hands them to the app; `onsale up` also writes them to
`<data dir>/runtime.json` so that other commands on the same machine can find the running parts.
"""

import pathlib

import msgspec

RUNTIME_FILE_NAME = "runtime.json"


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


def write_runtime_file(data_dir: pathlib.Path, parts: Parts) -> pathlib.Path:
    path = data_dir / RUNTIME_FILE_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(msgspec.json.format(msgspec.json.encode(parts)))
    temporary.chmod(0o600)
    temporary.replace(path)
    return path


def read_runtime_file(data_dir: pathlib.Path) -> Parts:
    return msgspec.json.decode((data_dir / RUNTIME_FILE_NAME).read_bytes(), type=Parts)
