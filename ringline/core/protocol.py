"""The HTTP protocol that `ringline serve` gives uvicorn.

uvicorn replies to bytes it cannot parse as HTTP/1.1 (a bad request line, a
header with a space in its name, a broken chunk) with a plain-text 400, before
the application receives them. This protocol sends the API's error body
instead, so every error a client gets has the same form.

uvicorn also waits without limit for a request's line and headers and reads
them at any size. This protocol responds with 431 once they pass MAX_HEAD_BYTES
and with 408 once they take longer than its head timeout.
"""

import asyncio
import random
from http import HTTPStatus

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ringline.core.errors import error_body

log = structlog.get_logger()

UNPARSABLE_REQUEST = (
    "the request is not valid HTTP/1.1: check the request line, that header names "
    "hold no spaces or control characters, and the chunked body encoding"
)
# Request line and headers together: room for long list query strings, while a
# client cannot make the parser hold megabytes.
MAX_HEAD_BYTES = 65_536
HEAD_TOO_LARGE = (
    f"the request line and headers are too large: they must total at most "
    f"{MAX_HEAD_BYTES} bytes"
)
DEFAULT_HEAD_TIMEOUT_SECONDS = 10.0


def error_response_bytes(
    status: int, message: str, default_headers: list[tuple[bytes, bytes]]
) -> bytes:
    """Return a whole error response, status line to body, for a connection that
    closes after it."""
    body = error_body(status, message)
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"x-request-id: " + f"{random.getrandbits(128):032x}".encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class ServerProtocol(HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools protocol with the API's error body for requests it
    cannot parse, and limits on the size and arrival time of request heads."""

    head_timeout_seconds = DEFAULT_HEAD_TIMEOUT_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._awaiting_head = True
        self._head_timer: asyncio.TimerHandle | None = None
        self._final_response: bytes | None = None
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._final_response is not None:
            return  # the connection closes once the earlier responses are sent
        if self._awaiting_head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._reject(431, HEAD_TOO_LARGE)
                return
            if self._head_timer is None:
                self._start_head_timer()
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._final_response is not None and self.cycle.response_complete:
            self._send_and_close(self._final_response)

    def send_400_response(self, msg: str) -> None:
        self._reject(400, UNPARSABLE_REQUEST)

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(
            self.head_timeout_seconds, self._head_timed_out
        )

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head and not self.transport.is_closing():
            message = (
                f"request headers timed out: the request line and headers must "
                f"arrive within {self.head_timeout_seconds:g} s"
            )
            self._reject(408, message)

    def _reject(self, status: int, message: str) -> None:
        """Send an error response and close the connection.

        Responses to requests read in full before it on the same connection are
        sent first. A request whose own body failed to parse gets no response.
        """
        self._stop_head_timer()
        log.info("http.request_rejected", status=status, client=self.client)
        headers = self.server_state.default_headers
        response = error_response_bytes(status, message, headers)
        cycle = self.cycle
        if cycle is None or cycle.response_complete or cycle.more_body:
            self._send_and_close(response)
        else:
            self._final_response = response

    def _send_and_close(self, response: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()


def server_protocol(head_timeout_seconds: float) -> type[ServerProtocol]:
    """Return ServerProtocol with the given head timeout, for uvicorn.run."""
    return type(
        "ServerProtocol",
        (ServerProtocol,),
        {"head_timeout_seconds": head_timeout_seconds},
    )
