"""The HTTP protocol that `ringline serve` gives uvicorn.

uvicorn replies to bytes it cannot parse as HTTP/1.1 (a bad request line, a
header with a space in its name, a broken chunk) with a plain-text 400, before
the application receives them. This protocol sends the API's error body
instead, so every error a client gets has the same form.
"""

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from ringline.core.errors import error_body

UNPARSABLE_REQUEST = (
    "the request is not valid HTTP/1.1: check the request line, that header names "
    "hold no spaces or control characters, and the chunked body encoding"
)


def unparsable_response(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """Return the whole 400 response, status line to body, for a connection
    that closes after it."""
    body = error_body(400, UNPARSABLE_REQUEST)
    lines = [b"HTTP/1.1 400 Bad Request"]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class ServerProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's protocol (httptools when installed, h11 otherwise) with the
    API's error body for requests it cannot parse."""

    def send_400_response(self, msg: str) -> None:
        # The connection closes right after, so the parser's state does not
        # matter and the bytes can go straight to the transport.
        self.transport.write(unparsable_response(self.server_state.default_headers))
        self.transport.close()
