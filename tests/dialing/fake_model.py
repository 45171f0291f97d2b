"""A local OpenAI-compatible chat completions server with scripted replies."""

import json
from http.server import BaseHTTPRequestHandler


class FakeModel(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat completions endpoint with scripted replies."""

    answers: list[object] = []
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers["content-length"])
        FakeModel.requests.append(json.loads(self.rfile.read(length)))
        answer = FakeModel.answers.pop(0)
        body = json.dumps(answer).encode() if not isinstance(answer, bytes) else answer
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def completion(text: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": text}}]}
