"""The gateway includes its routers with the fans' on-sale path first, to match it soonest. That
is only safe while no request could match two routes: then the order decides nothing."""

import importlib
import itertools
import pkgutil
import re

from fastapi import APIRouter
from fastapi.routing import APIRoute

import gateway.routes


def every_router() -> list[APIRouter]:
    """Every router of every module in gateway.routes, whichever the app includes."""
    modules = [
        importlib.import_module(f"gateway.routes.{module.name}")
        for module in pkgutil.iter_modules(gateway.routes.__path__)
    ]
    routers = {
        id(value): value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, APIRouter)
    }
    return list(routers.values())


PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def example_paths(route: APIRoute) -> list[str]:
    """Paths the route answers, with each parameter filled by an id or by a word that is also
    some other route's literal segment."""
    return [PATH_PARAMETER.sub(value, route.path) for value in ("x1", "holds", "events", "stats")]


def test_no_request_matches_two_routes_so_their_order_decides_nothing() -> None:
    routes = [
        route for router in every_router() for route in router.routes if isinstance(route, APIRoute)
    ]
    assert len(routes) > 30
    overlaps = [
        (first.path, second.path, path)
        for first, second in itertools.permutations(routes, 2)
        if first.methods & second.methods
        for path in example_paths(first)
        if second.path_regex.match(path)
    ]

    assert overlaps == []
