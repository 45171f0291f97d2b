"""The Reader: statements sent straight to the driver on pooled connections."""

import asyncio
import logging

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from ringline.core.database import Reader, async_database_url


async def test_reader_closes_overflow_connections(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_async_engine(
        async_database_url(database_url), pool_size=1, max_overflow=3
    )
    reader = Reader(engine)

    with caplog.at_level(logging.ERROR, logger="sqlalchemy.pool"):
        results = await asyncio.gather(
            *(reader.fetch("SELECT 1", []) for _ in range(4))
        )
    pool = engine.sync_engine.pool
    checked_out = pool.checkedout()  # type: ignore[attr-defined]
    await engine.dispose()

    assert [list(rows[0]) for rows in results] == [[1]] * 4
    assert checked_out == 0
    assert [record.getMessage() for record in caplog.records] == []
