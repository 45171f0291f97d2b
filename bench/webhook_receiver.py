"""A webhook receiver for the benchmark, run by uvicorn on 127.0.0.1.

POST /fast responds 200 at once, and POST /slow responds 200 after two
seconds. Each
arrival is kept with its time, and GET /arrivals returns them all as JSON.
"""

import asyncio
import time

import orjson

SLOW_SECONDS = 2.0
arrivals: list[tuple[str, str, float]] = []


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":
        await respond(send, 200, orjson.dumps(arrivals))
        return
    while (await receive()).get("more_body"):
        pass
    headers = dict(scope["headers"])
    arrivals.append(
        (scope["path"], headers.get(b"webhook-id", b"").decode(), time.time())
    )
    if scope["path"] == "/slow":
        await asyncio.sleep(SLOW_SECONDS)
    await respond(send, 200, b"")


async def respond(send, status: int, body: bytes) -> None:  # type: ignore[no-untyped-def]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
