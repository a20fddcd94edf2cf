"""The fans' on-sale routes, served from the middleware stack without FastAPI's request handling.

At a sale's peak nearly every request is a hold or a waiting-room call. FastAPI would take each
through its exception and exit-stack middleware, its router and its dependency solver, which
costs as much as the hold itself (B2). A hot route's endpoint takes only the request and string
path parameters and returns a Response, so calling it directly answers the same; its errors go to
the handlers the app registered, and an error with none propagates, as from any route, to the
server-error handler outside. A route is hot only if its endpoint has that shape: checked at start.
"""

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.convertors import StringConvertor
from starlette.types import ASGIApp, Receive, Scope, Send

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def route_of(router: APIRouter, endpoint: Callable[..., Awaitable[Response]]) -> APIRoute:
    """The router's route for `endpoint`."""
    return next(
        route
        for route in router.routes
        if isinstance(route, APIRoute) and route.endpoint is endpoint
    )


def hot_route(router: APIRouter, endpoint: Callable[..., Awaitable[Response]]) -> APIRoute:
    """The router's route for `endpoint`, checked to be callable with the request and its path."""
    route = route_of(router, endpoint)
    hints = typing.get_type_hints(endpoint)
    request_parameter, *path_parameters = inspect.signature(endpoint).parameters
    assert hints[request_parameter] is Request, f"{route.path}: the request comes first"
    assert path_parameters == list(route.param_convertors), f"{route.path}: path parameters only"
    assert all(
        isinstance(convertor, StringConvertor) for convertor in route.param_convertors.values()
    ), f"{route.path}: path parameters are text"
    assert all(hints[name] is str for name in path_parameters), f"{route.path}: str parameters"
    assert hints["return"] is Response, f"{route.path}: the endpoint returns its Response"
    assert not route.dependencies and route.dependant.dependencies == [], route.path
    return route


def registered_handler(
    handlers: Mapping[Any, ExceptionHandler], error: Exception
) -> ExceptionHandler | None:
    """The app's handler for `error`, as Starlette's exception middleware would choose it; the
    catch-all `Exception` handler belongs to the server-error middleware, so it is not chosen."""
    for kind in type(error).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            return handlers[kind]
    return None


class HotRoutes:
    """Serves the `routes` it is given; every other request goes on to the app."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[APIRoute]) -> None:
        self.app = app
        self._routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Paths match as sent: one under a root path goes on to the router, which strips it.
        if scope["type"] == "http":
            for route in self._routes:
                match = route.path_regex.match(scope["path"])
                if match is not None and scope["method"] in route.methods:
                    scope["route"] = route
                    scope["endpoint"] = route.endpoint
                    scope["path_params"] = match.groupdict()
                    await self._serve(route, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, route: APIRoute, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response: Response = await route.endpoint(request, **scope["path_params"])
        except Exception as error:
            handler = registered_handler(scope["app"].exception_handlers, error)
            if handler is None:
                raise
            response = await handler(request, error)
        await response(scope, receive, send)
