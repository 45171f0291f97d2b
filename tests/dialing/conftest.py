import threading
from collections.abc import Iterator
from http.server import HTTPServer

import pytest

from tests.dialing.fake_model import FakeModel


@pytest.fixture
def fake_model() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), FakeModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeModel.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
