"""An API whose recordings directory the tests can write WAV files into."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.factories import Api, open_api


@pytest.fixture
def recordings_dir(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
async def api(
    database_url: str, tmp_path: Path, recordings_dir: Path
) -> AsyncIterator[Api]:
    async with open_api(database_url, tmp_path, recordings_dir=recordings_dir) as made:
        yield made
