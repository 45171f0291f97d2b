"""The framework floor: a bare FastAPI app that returns prepared response bodies.

Run by uvicorn like `ringline serve` runs ringline. Each file NAME.json in the
directory named by BENCH_BODIES_DIR becomes a route GET /NAME that returns the
file's bytes with an ETag, as ringline's list route does, but without a
database, authentication or middleware.
"""

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import xxhash
from fastapi import FastAPI, Response

BODIES_DIR_VARIABLE = "BENCH_BODIES_DIR"


def make_endpoint(body: bytes) -> Callable[[], Awaitable[Response]]:
    etag = '"' + xxhash.xxh3_128_hexdigest(body) + '"'

    async def endpoint() -> Response:
        return Response(
            content=body, media_type="application/json", headers={"etag": etag}
        )

    return endpoint


def create_app(bodies_dir: Path) -> FastAPI:
    app = FastAPI()
    for path in sorted(bodies_dir.glob("*.json")):
        app.add_api_route(f"/{path.stem}", make_endpoint(path.read_bytes()))

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(content=b'{"status":"ok"}', media_type="application/json")

    return app


app = create_app(Path(os.environ[BODIES_DIR_VARIABLE]))
