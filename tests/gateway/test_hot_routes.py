"""The hot routes answer as FastAPI would: through the app's exception handlers, with the route
template in the request's metrics, and only for endpoints that take the request and its path."""

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from gateway.hot_routes import HotRoutes, hot_route
from tests.gateway.http_journeys import create_event, general_items
from tests.gateway.stack import Stack

router = APIRouter()


class Refused(Exception):
    pass


class RefusedAgain(Refused):
    pass


@router.post("/things/{thing_id}")
async def make_thing(request: Request, thing_id: str) -> Response:
    if thing_id == "refused":
        raise RefusedAgain()
    if thing_id == "broken":
        raise RuntimeError("a bug")
    route = request.scope["route"].path
    return Response(content=f"{thing_id} {route}".encode(), status_code=201)


@router.post("/numbered/{number}")
async def numbered(request: Request, number: int) -> Response:
    return Response(status_code=201)


@router.post("/bodies/{body_id}")
async def with_body(request: Request, body_id: str, body: dict[str, int]) -> Response:
    return Response(status_code=201)


def caller() -> str:
    return "someone"


@router.post("/dependent/{thing_id}")
async def dependent(request: Request, thing_id: str, who: str = Depends(caller)) -> Response:
    return Response(status_code=201)


def served_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(HotRoutes, routes=(hot_route(router, make_thing),))

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        return Response(content=b"refused", status_code=409)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        return Response(content=b"internal", status_code=500)

    return app


async def call(method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=served_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


async def test_hot_route_answers_with_its_path_parameters_and_route_template() -> None:
    answer = await call("POST", "/things/t1")

    assert (answer.status_code, answer.text) == (201, "t1 /things/{thing_id}")


async def test_hot_route_error_is_answered_by_the_handler_registered_for_its_base_class() -> None:
    answer = await call("POST", "/things/refused")

    assert (answer.status_code, answer.text) == (409, "refused")


async def test_hot_route_error_without_a_handler_is_the_server_errors_to_answer() -> None:
    answer = await call("POST", "/things/broken")

    assert (answer.status_code, answer.text) == (500, "internal")


async def test_other_methods_and_paths_go_on_to_the_app_when_a_hot_route_does_not_match() -> None:
    wrong_method = await call("GET", "/things/t1")
    longer_path = await call("POST", "/things/t1/more")

    assert wrong_method.status_code == 405
    assert longer_path.status_code == 404


@pytest.mark.parametrize("endpoint", [numbered, with_body, dependent])
def test_endpoint_is_refused_as_hot_when_fastapi_would_convert_or_inject_a_parameter(
    endpoint: object,
) -> None:
    with pytest.raises(AssertionError):
        hot_route(router, endpoint)  # type: ignore[arg-type]


async def test_hold_is_counted_under_its_route_template_when_served_hot(stack: Stack) -> None:
    event = await create_event(stack, general_capacity=5)
    async with stack.client(stack.token()) as fan:
        placed = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 1))
        metrics = (await fan.get("/metrics")).text

    assert placed.status_code == 201, placed.text
    assert (
        'onsale_http_requests_total{method="POST",route="/v1/events/{event_id}/holds",status="201"}'
        in metrics
    )
    assert 'onsale_hold_outcomes_total{outcome="placed"}' in metrics
