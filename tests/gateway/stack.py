"""The running stack the HTTP tests talk to: the real app on uvicorn, over real TCP, on real Ray,
Postgres and Redis. The server runs in a thread with its own event loop, so synchronous tests
(schemathesis) and asynchronous ones can both call it while it serves."""

import contextlib
import datetime
import pathlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import uvicorn
from solders.keypair import Keypair

from embedded.loopback import free_port
from gateway.app import create_app
from gateway.auth import Role, sign_development_token
from gateway.parts import Parts
from gateway.settings import Environment, Settings
from persistence.pool import service_url

SERVER_START_TIMEOUT_S = 30.0
# The Supervisor starts the workers, and waits for the payment workers to open, before its first
# round; a cold Ray node takes a while to start their processes.
STANDING_WORK_START_TIMEOUT_S = 120.0
TOKEN_TTL_S = 3_600
# The tests come from one address and many fans; the address bucket is tested on its own app.
GENEROUS_RATE_PER_S = 1_000_000


class Stack:
    def __init__(self, base_url: str, parts: Parts, outside: "Outside") -> None:
        self.base_url = base_url
        self.parts = parts
        self.outside = outside

    def token(
        self,
        *,
        user_id: str | None = None,
        tenant_id: uuid.UUID | None = None,
        roles: tuple[Role, ...] = (Role.FAN,),
        email: str | None = None,
        name: str | None = None,
    ) -> str:
        assert self.parts.jwt_secret is not None
        return sign_development_token(
            self.parts.jwt_secret,
            user_id=user_id or f"fan-{uuid.uuid4().hex[:12]}",
            tenant_id=tenant_id or uuid.uuid4(),
            roles=roles,
            ttl_s=TOKEN_TTL_S,
            now_s=int(time.time()),
            email=email,
            name=name,
        )

    def client(self, token: str | None = None, **headers: str) -> httpx.AsyncClient:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=60.0)


class Outside(msgspec.Struct, frozen=True, kw_only=True):
    """The session's outside world: localstripe, an SMTP sink, and a directory for the chain.

    No webhook endpoint is registered with localstripe: Stripe's deliveries are lost here, so the
    tests show that the reconciler completes payments alone, and they sign and post events
    themselves.
    """

    stripe_api_base: str
    stripe_api_key: str
    stripe_webhook_secret: str
    smtp_url: str
    mail_directory: pathlib.Path
    solana_directory: pathlib.Path


def stack_parts(owner_url: str, redis_url: str, port: int, outside: Outside) -> Parts:
    return Parts(
        gateway_url=f"http://127.0.0.1:{port}",
        # `onsale up` serves it beside the gateway; a test that reads it serves it itself
        metrics_url=f"http://127.0.0.1:{free_port()}",
        database_url=owner_url,
        database_service_url=service_url(owner_url),
        redis_url=redis_url,
        ray_address="local",
        stripe_api_base=outside.stripe_api_base,
        stripe_api_key=outside.stripe_api_key,
        stripe_webhook_secret=outside.stripe_webhook_secret,
        access_secret=secrets.token_urlsafe(32),
        jwt_secret=secrets.token_urlsafe(32),
        embedded=[],
        smtp_url=outside.smtp_url,
        solana_rpc_url=None,
        solana_directory=str(outside.solana_directory),
        mint_authority_key=str(Keypair()),
        custody_seed=secrets.token_hex(32),
    )


@contextlib.contextmanager
def serving(settings: Settings, parts: Parts, port: int) -> Iterator[str]:
    """Serve the app on `port` in a thread until the block ends."""
    config = uvicorn.Config(
        create_app(settings, parts),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # as onsale/runtime.py: the app's rule is the only one
        lifespan="on",
        loop="asyncio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"gateway-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_START_TIMEOUT_S)


def wait_for_standing_work(base_url: str) -> None:
    """Wait until the gateway sees the Supervisor's rounds: the workers are started, so a test's
    first refund or Stripe event is not the one that waits for a process to start."""
    deadline = time.monotonic() + STANDING_WORK_START_TIMEOUT_S
    while time.monotonic() < deadline:
        answer = httpx.get(f"{base_url}/health/ready", timeout=10.0)
        if answer.status_code == 200 and answer.json()["work"].get("rounds", 0) > 0:
            return
        time.sleep(0.2)
    raise AssertionError("the Supervisor did not start its rounds")


def gateway_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "rate_limit_fan_per_s": GENEROUS_RATE_PER_S,
        "rate_limit_address_per_s": GENEROUS_RATE_PER_S,
    }
    return Settings(**(values | overrides))


def moment(delta: datetime.timedelta) -> str:
    return (datetime.datetime.now(datetime.UTC) + delta).isoformat()


def event_body(
    *,
    general_capacity: int = 200,
    seat_rows: int = 2,
    seats_per_row: int = 10,
    waiting_room: dict[str, Any] | None = None,
    opens_in: datetime.timedelta = datetime.timedelta(minutes=-1),
    max_tickets_per_user: int | None = 6,
    hold_ttl_s: int = 600,
    wait_list: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A body for POST /v1/venue/events: general admission, and seated rows in section 101."""
    ticket_types: list[dict[str, Any]] = [
        {
            "key": "GA",
            "name": "General Admission",
            "kind": "general",
            "price_cents": 5_000,
            "capacity": general_capacity,
        }
    ]
    body: dict[str, Any] = {
        "name": "Night One",
        "venue_name": "Arena",
        "starts_at": moment(datetime.timedelta(days=30)),
        "ends_at": moment(datetime.timedelta(days=30, hours=3)),
        "currency": "USD",
        "onsale": {
            "opens_at": moment(opens_in),
            "closes_at": moment(datetime.timedelta(days=1)),
            "hold_ttl_s": hold_ttl_s,
            "max_tickets_per_user": max_tickets_per_user,
            "waiting_room": waiting_room or {"enabled": False},
            **({} if wait_list is None else {"wait_list": wait_list}),
        },
        "ticket_types": ticket_types,
    }
    if seat_rows:
        ticket_types.append(
            {"key": "RES", "name": "Reserved", "kind": "seated", "price_cents": 8_000}
        )
        rows = [{"id": chr(ord("A") + index), "seats": seats_per_row} for index in range(seat_rows)]
        body["seatmap"] = {"sections": [{"id": "101", "ticket_type": "RES", "rows": rows}]}
    return body
