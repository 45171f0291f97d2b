"""The Reader: statements sent straight to the driver on its own connections."""

import asyncio

import pytest

from ringline.core.database import (
    READER_SLOTS,
    Reader,
    create_engine,
    create_sessionmaker,
    transaction,
)
from ringline.workspaces.service import create_workspace


async def test_reader_runs_concurrent_statements(database_url: str) -> None:
    engine = create_engine(database_url)
    reader = Reader(engine)
    slots = READER_SLOTS[engine.dialect.name]

    results = await asyncio.gather(
        *(reader.fetch("SELECT 1", []) for _ in range(slots * 3))
    )
    idle = len(reader._idle)
    await reader.close()
    await engine.dispose()

    assert [list(rows[0]) for rows in results] == [[1]] * (slots * 3)
    assert 1 <= idle <= slots


async def test_reader_recovers_after_failed_statement(database_url: str) -> None:
    engine = create_engine(database_url)
    reader = Reader(engine)
    await reader.fetch("SELECT 1", [])

    with pytest.raises(Exception, match="no_such_table"):
        await reader.fetch("SELECT * FROM no_such_table", [])
    rows = await reader.fetch("SELECT 2", [])
    await reader.close()
    await engine.dispose()

    assert list(rows[0]) == [2]


async def test_reader_sees_committed_writes(database_url: str) -> None:
    engine = create_engine(database_url)
    reader = Reader(engine)
    before = await reader.fetch("SELECT count(*) FROM workspaces", [])

    async with transaction(create_sessionmaker(engine)) as session:
        await create_workspace(session, "Reader", None)
    after = await reader.fetch("SELECT count(*) FROM workspaces", [])
    await reader.close()
    await engine.dispose()

    assert before[0][0] == 0
    assert after[0][0] == 1
