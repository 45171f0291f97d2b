"""ASGI middleware: request ids, body size limit, access log and the 500 body.

Written as plain ASGI rather than with BaseHTTPMiddleware, which adds a task and
a stream copy to every request.
"""

import asyncio
import random
import time
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringline.core.errors import error_body
from ringline.core.logging import REQUEST_FIELDS

log = structlog.get_logger()

# Routes may put extra response headers here (the rate-limit headers).
EXTRA_HEADERS_KEY = "ringline.extra_headers"


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, body_timeout_seconds: float
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # 128 random bits in the form of uuid4().hex. A request id only has to
        # be unique, and the random module needs no system call per id (it is
        # seeded from os.urandom and again in each forked process).
        request_id = f"{random.getrandbits(128):032x}"
        scope[EXTRA_HEADERS_KEY] = {}
        started = time.perf_counter()
        state: dict[str, Any] = {"status": None}
        fields = REQUEST_FIELDS.set(
            {"request_id": request_id, "method": scope["method"], "path": scope["path"]}
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                for name, value in scope[EXTRA_HEADERS_KEY].items():
                    headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if self._body_too_large(scope):
                await self._send_error(send_with_headers, 413, self._too_large())
                return
            await self.app(scope, self._limited(receive), send_with_headers)
        except Exception:
            log.exception("http.unhandled_error")
            if state["status"] is None:
                await self._send_error(send_with_headers, 500, "Internal server error")
        finally:
            log.info(
                "http.request",
                status=state["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            REQUEST_FIELDS.reset(fields)

    def _limited(self, receive: Receive) -> Receive:
        """Wrap receive to check the body as it arrives.

        A chunked request has no Content-Length to check up front, so its size is
        counted here. A client that stops sending mid-body would hold the request
        open forever, so the whole body must arrive by a deadline.
        """
        received = 0
        complete = False
        deadline = asyncio.get_running_loop().time() + self.body_timeout_seconds

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()  # only http.disconnect is left to wait for

            message = await self._receive_before(receive, deadline)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large())
            return message

        return limited_receive

    async def _receive_before(self, receive: Receive, deadline: float) -> Message:
        """Return the next message, or raise a 408 once the deadline has passed."""
        try:
            async with asyncio.timeout_at(deadline):
                return await receive()
        except TimeoutError:
            log.info("http.body_timed_out", timeout_s=self.body_timeout_seconds)
            raise HTTPException(
                408,
                f"request body timed out: the whole body must arrive within "
                f"{self.body_timeout_seconds:g} s",
                headers={"connection": "close"},
            ) from None

    def _too_large(self) -> str:
        return f"request body must be at most {self.max_body_bytes} bytes"

    def _body_too_large(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                return not value.isdigit() or int(value) > self.max_body_bytes
        return False

    async def _send_error(self, send: Send, status: int, message: str) -> None:
        body = error_body(status, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
