"""The trivial FastAPI endpoint B2 compares holds with: read the body, answer, nothing else."""

from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@app.get("/health")
async def health() -> Response:
    return Response(content=b'{"status":"ok"}', media_type="application/json")


@app.post("/ping")
async def ping(request: Request) -> Response:
    await request.body()
    return Response(content=b'{"pong":1}', status_code=201, media_type="application/json")
