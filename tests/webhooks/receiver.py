"""A real HTTP receiver on 127.0.0.1 that records every request it gets."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


# Given the number of requests received before this one (from 0) and the
# request, return the response status and the seconds to wait before it.
Behaviour = Callable[[int, Received], tuple[int, float]]


def always_ok(_index: int, _request: Received) -> tuple[int, float]:
    return 200, 0.0


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    behaviour: Behaviour = always_ok
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies_for(self, event_id: str) -> list[bytes]:
        return [r.body for r in self.received if r.headers["webhook-id"] == event_id]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length", "0"))
            request = Received(
                self.path,
                {name.lower(): value for name, value in self.headers.items()},
                self.rfile.read(length),
                time.monotonic(),
            )
            with receiver.lock:
                index = len(receiver.received)
                receiver.received.append(request)
            status, delay = receiver.behaviour(index, request)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@contextmanager
def running_receiver(behaviour: Behaviour = always_ok) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver("")))
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook")
    receiver.behaviour = behaviour
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
