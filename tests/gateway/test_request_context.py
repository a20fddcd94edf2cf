"""The request context every request passes: its deadline is its budget less the answer's reserve,
and the access log does not grow with traffic (at INFO one answer in N of each route and status
class, with the count it skipped) while every 5xx is logged with its request id."""

import logging
import time
from collections.abc import Iterator

import httpx
import msgspec
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from actors.json_logs import JsonFormatter
from engine import limits
from gateway.client_addresses import (
    CLIENT_ADDRESS_SCOPE_KEY,
    NO_TRUSTED_PROXIES,
    TrustedProxies,
)
from gateway.deadlines import current_deadline_s
from gateway.logs import request_context
from gateway.middleware import RequestContextMiddleware

ONE_IN = limits.ACCESS_LOG_SAMPLED_ONE_IN
# How far a measured deadline may sit from its budget: the time the request took to arrive.
DEADLINE_TOLERANCE_S = 0.5
BALANCER = "10.0.0.7"


async def answered(request: Request) -> Response:
    return PlainTextResponse("ok")


async def refused(request: Request) -> Response:
    return PlainTextResponse("sold out", status_code=409)


async def unavailable(request: Request) -> Response:
    return PlainTextResponse("down", status_code=503)


async def broken(request: Request) -> Response:
    return PlainTextResponse("bug", status_code=500)


async def time_left(request: Request) -> Response:
    deadline_s = current_deadline_s()
    assert deadline_s is not None
    return JSONResponse({"time_left_s": deadline_s - time.monotonic()})


async def client_of(request: Request) -> Response:
    return PlainTextResponse(request.scope[CLIENT_ADDRESS_SCOPE_KEY])


def app(trusted_proxies: TrustedProxies = NO_TRUSTED_PROXIES) -> RequestContextMiddleware:
    routes = [
        Route("/answered", answered),
        Route("/refused", refused),
        Route("/unavailable", unavailable),
        Route("/broken", broken),
        Route("/time-left", time_left, methods=["GET", "POST"]),
        Route("/client", client_of),
    ]
    return RequestContextMiddleware(Starlette(routes=routes), trusted_proxies=trusted_proxies)


class Lines(logging.Handler):
    """The access log's lines as the service writes them (JSON, with the request id)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter(request_context))
        self.entries: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(msgspec.json.decode(self.format(record)))


@pytest.fixture
def access_log() -> Iterator[tuple[logging.Logger, Lines]]:
    logger = logging.getLogger("onsale.access")
    lines = Lines()
    level = logger.level
    logger.addHandler(lines)
    yield logger, lines
    logger.removeHandler(lines)
    logger.setLevel(level)


async def get(client: httpx.AsyncClient, path: str, times: int) -> list[httpx.Response]:
    return [await client.get(path) for _ in range(times)]


def client(trusted_proxies: TrustedProxies = NO_TRUSTED_PROXIES) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app(trusted_proxies), client=(BALANCER, 4711)),
        base_url="http://gateway",
    )


async def test_one_answer_in_n_of_each_route_and_class_is_logged_when_the_log_is_at_info(
    access_log: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = access_log
    logger.setLevel(logging.INFO)

    async with client() as http:
        await get(http, "/answered", 2 * ONE_IN + 1)
        await get(http, "/refused", ONE_IN)

    logged = [(entry["route"], entry["status"], entry["skipped"]) for entry in lines.entries]
    assert logged == [
        ("/answered", 200, 0),
        ("/answered", 200, ONE_IN - 1),
        ("/answered", 200, ONE_IN - 1),
        ("/refused", 409, 0),
    ]
    assert {entry["level"] for entry in lines.entries} == {"info"}


async def test_every_server_error_is_logged_with_its_request_id_when_the_log_is_at_info(
    access_log: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = access_log
    logger.setLevel(logging.INFO)

    async with client() as http:
        failures = [*await get(http, "/unavailable", 3), *await get(http, "/broken", 2)]

    logged = [(entry["level"], entry["status"], entry["request_id"]) for entry in lines.entries]
    levels = {503: "warning", 500: "error"}
    assert logged == [
        (levels[response.status_code], response.status_code, response.headers["x-request-id"])
        for response in failures
    ]


async def test_every_answer_is_logged_when_the_log_is_at_debug(
    access_log: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = access_log
    logger.setLevel(logging.DEBUG)

    async with client() as http:
        responses = await get(http, "/answered", 5)

    assert [entry["request_id"] for entry in lines.entries] == [
        response.headers["x-request-id"] for response in responses
    ]
    assert {entry["level"] for entry in lines.entries} == {"debug"}
    assert all("skipped" not in entry for entry in lines.entries)


@pytest.mark.parametrize(
    ("method", "budget_ms"),
    [("GET", limits.READ_BUDGET_MS), ("POST", limits.REQUEST_BUDGET_MS)],
    ids=["read", "change"],
)
async def test_deadline_is_the_budget_less_the_answers_reserve_when_a_request_comes_in(
    method: str, budget_ms: int
) -> None:
    async with client() as http:
        answer = await http.request(method, "/time-left")

    expected_s = (budget_ms - limits.ANSWER_RESERVE_MS) / 1_000
    assert expected_s - DEADLINE_TOLERANCE_S < answer.json()["time_left_s"] <= expected_s
    assert current_deadline_s() is None


async def test_route_and_access_log_see_the_forwarded_client_when_the_peer_is_trusted(
    access_log: tuple[logging.Logger, Lines],
) -> None:
    logger, lines = access_log
    logger.setLevel(logging.DEBUG)
    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}

    async with client(TrustedProxies.parse(BALANCER)) as http:
        trusted = await http.get("/client", headers=forwarded)
    async with client() as http:
        untrusted = await http.get("/client", headers=forwarded)

    assert (trusted.text, untrusted.text) == ("203.0.113.9", BALANCER)
    assert [entry["client"] for entry in lines.entries] == ["203.0.113.9", BALANCER]
