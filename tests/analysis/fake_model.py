"""A local OpenAI-compatible chat completions server with scripted replies."""

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes


def completion(content: str) -> Reply:
    """A chat completion whose message content is `content`."""
    message = {"role": "assistant", "content": content}
    body = {"choices": [{"index": 0, "message": message}]}
    return Reply(200, json.dumps(body).encode())


def analysis_completion(
    sentiment: str, summary: str | None, fields: dict[str, Any]
) -> Reply:
    """A chat completion whose content is the analysis JSON object."""
    content = {"sentiment": sentiment, "summary": summary, "fields": fields}
    return completion(json.dumps(content))


class FakeModelServer(ThreadingHTTPServer):
    """Serves the scripted replies in order and records each request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeModelServer

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers["content-length"])
        self.server.requests.append(json.loads(self.rfile.read(length)))
        self.server.authorizations.append(self.headers.get("authorization"))
        if self.path != "/v1/chat/completions" or not self.server.replies:
            reply = Reply(404, b'{"error": "no scripted reply"}')
        else:
            reply = self.server.replies.pop(0)
        self.send_response(reply.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, *args: object) -> None:
        return None
