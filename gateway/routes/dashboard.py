"""The venue dashboard: its page at `/venue` and the files it loads from `/static`.

The page holds a venue's bearer token, so it runs only this origin's scripts and styles and no
other site may frame it. Every file is revalidated on each load, so an upgraded gateway never
serves a page with the previous version's scripts. The page reads everything it shows from the
HTTP API like any other client.
"""

import os
import pathlib

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIRECTORY = pathlib.Path(__file__).resolve().parent.parent / "static"
REVALIDATE = "no-cache"
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": REVALIDATE,
}

router = APIRouter()


class RevalidatedStaticFiles(StaticFiles):
    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


static_files = RevalidatedStaticFiles(directory=STATIC_DIRECTORY)


@router.get("/venue")
async def venue_dashboard() -> FileResponse:
    return FileResponse(STATIC_DIRECTORY / "venue.html", headers=PAGE_HEADERS)
