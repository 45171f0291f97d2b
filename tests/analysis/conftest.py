import threading
from collections.abc import Iterator

import pytest

from tests.analysis.fake_model import FakeModelServer


@pytest.fixture
def fake_model() -> Iterator[FakeModelServer]:
    server = FakeModelServer()
    # A short poll interval lets shutdown() return quickly after each test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
