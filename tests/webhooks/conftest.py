"""An API that accepts webhook URLs on loopback and private networks."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.factories import Api, open_api


@pytest.fixture
async def private_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(database_url, tmp_path, webhook_allow_private=True) as made:
        yield made
