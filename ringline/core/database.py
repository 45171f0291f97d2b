"""Database engine, sessions and the column types shared by every table."""

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy import Connection, DateTime, Engine, String, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import JSON, TypeDecorator

from ringline.core.time import truncate_to_ms


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp with millisecond precision.

    PostgreSQL stores it as timestamptz. SQLite has no timestamp type, so it is
    stored as fixed-width ISO 8601 text ending in Z, which sorts in time order.
    Naive values are rejected rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(24))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"expected an aware datetime, got {value!r}")
        value = truncate_to_ms(value.astimezone(UTC))
        if dialect.name == "sqlite":
            return (
                f"{value.year:04d}-{value:%m-%dT%H:%M:%S}."
                f"{value.microsecond // 1000:03d}Z"
            )
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return value.astimezone(UTC)


class JSONDocument(TypeDecorator[Any]):
    """JSON on SQLite, JSONB on PostgreSQL."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


def async_database_url(url: str) -> str:
    """Map a user-facing URL to the async driver that serves it.

    `sqlite:///path` uses aiosqlite and `postgresql://…` uses asyncpg; a URL that
    already names a driver is kept.
    """
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise ValueError(
            f"RINGLINE_DATABASE_URL must be a sqlite:/// or postgresql:// URL "
            f"(got driver {parsed.drivername!r})"
        )
    return parsed.render_as_string(hide_password=False)


def _ensure_sqlite_directory(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database:
        if parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


SQLITE_BUSY_TIMEOUT_MS = 10_000


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling breaks SAVEPOINT, so it is
    # switched off and _begin_sqlite_transaction emits BEGIN instead.
    dbapi_connection.isolation_level = None
    # WAL lets readers run while one writer commits; the busy timeout makes a
    # second writer wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        return
    # IMMEDIATE takes the write lock at BEGIN, waiting up to the busy timeout. A
    # deferred transaction that reads first and writes later can instead fail at
    # once with SQLITE_BUSY when another writer committed in between.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


# Execution option of the engine that read-only requests use.
READ_ONLY_OPTION = "ringline_read_only"


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """Return a view of engine for statements that run without a transaction.

    PostgreSQL switches to autocommit, which saves the BEGIN and COMMIT round
    trips. SQLite connections are in autocommit mode already (see
    _configure_sqlite_connection), so only the BEGIN is skipped: changing the
    isolation level there costs a thread hop per checkout and return.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY_OPTION: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def create_engine(url: str) -> AsyncEngine:
    async_url = async_database_url(url)
    _ensure_sqlite_directory(async_url)
    if async_url.startswith("sqlite"):
        # Every transaction ends in an explicit COMMIT or ROLLBACK, so the reset
        # on return would only add a thread hop per request. Reusing the most
        # recent connection first keeps one connection's thread and page cache
        # warm: in rotation, the worker's connections made List Calls 0.2 ms
        # slower at the median.
        engine = create_async_engine(
            async_url,
            pool_size=8,
            max_overflow=8,
            pool_reset_on_return=None,
            pool_use_lifo=True,
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
        return engine
    return create_async_engine(
        async_url,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
        pool_pre_ping=False,
        pool_use_lifo=True,
    )


def create_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Return a session factory; each session starts with a copy of info."""
    return async_sessionmaker(
        engine, expire_on_commit=False, autoflush=False, info=info or {}
    )


_write_gates: weakref.WeakKeyDictionary[Engine, asyncio.Lock | asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)

# The pool keeps more connections open than the write slots, for the ORM reads.
# A connection beyond the pool's size is closed when returned: in a profile of
# 32 creates at once against a pool of 10, opening connections again took about
# a quarter of the server's CPU.
POSTGRES_POOL_SIZE = 20
POSTGRES_MAX_OVERFLOW = 10
# Write transactions that may hold a PostgreSQL connection at once, leaving the
# rest of the pool to reads.
POSTGRES_WRITE_SLOTS = 16
# Statements the Reader runs at once, each on its own connection; more wait in
# order for a free slot.
READER_SLOTS = {"sqlite": 6, "postgresql": 16}


def _write_gate(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> asyncio.Lock | asyncio.Semaphore | None:
    """Return what a write transaction of this engine queues on, in order.

    SQLite admits one writer at a time, and a connection that finds the database
    locked sleeps in its busy handler rather than being woken: with many
    connections of one process competing, commits collapsed to under 100 a
    second. Queueing writers on an asyncio lock leaves the busy handler to
    writers of other processes only.

    On PostgreSQL the pool hands a returned connection to whichever task
    requests one first, not to the longest waiting one. With 32 creates at once
    against 20 connections, a few waited until the load stopped (p99 4.3 s
    against p50 85 ms). Writers now queue in order on a semaphore smaller than
    the pool.
    NOTE: reads still wait in the pool itself when more than the remaining
    connections are busy.
    """
    bind = sessionmaker.kw.get("bind")
    if bind is None:
        return None
    engine = bind.sync_engine
    gate = _write_gates.get(engine)
    if gate is None:
        if bind.dialect.name == "sqlite":
            gate = asyncio.Lock()
        else:
            gate = asyncio.Semaphore(POSTGRES_WRITE_SLOTS)
        _write_gates[engine] = gate
    return gate


# The session.info key of coroutines to run, in order, before the session's
# transaction commits. Code that writes more in the same transaction, such as
# the webhook outbox, adds itself there.
BEFORE_COMMIT_KEY = "ringline.before_commit"


async def run_before_commit(session: AsyncSession) -> None:
    hooks = session.info.pop(BEFORE_COMMIT_KEY, [])
    for hook in hooks:
        await hook(session)


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Open a session that commits when the block succeeds and rolls back otherwise.

    This is the edge that owns the transaction: services and repositories flush
    but never commit.
    """
    gate = _write_gate(sessionmaker)
    async with gate if gate is not None else contextlib.nullcontext():
        async with sessionmaker() as session:
            async with session.begin():
                yield session
                await run_before_commit(session)


async def _driver_fetch(
    driver: Any, dialect: Dialect, sql: str, arguments: list[Any]
) -> list[Sequence[Any]]:
    if dialect.name == "sqlite":
        return list(await driver.execute_fetchall(sql, arguments))
    return list(await driver.fetch(sql, *arguments))


class Reader:
    """A runner of compiled read statements, sent straight to the driver with no
    transaction.

    SQLAlchemy's session and connection objects added about 0.2 ms of CPU per
    List Calls request, and borrowing a connection from its pool about 55 µs on
    SQLite and 65 µs on PostgreSQL (asyncpg's own pool: 50 µs), measured in one
    process against the same statement on a held connection. So the Reader keeps
    its own driver connections, at most one per slot, and reuses the most
    recently returned one first.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect = engine.dialect
        self._url = engine.url
        self._slots = asyncio.Semaphore(READER_SLOTS[engine.dialect.name])
        self._idle: list[Any] = []

    async def fetch(self, sql: str, arguments: list[Any]) -> list[Sequence[Any]]:
        """Run sql with positional arguments; return the rows as tuples."""
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                rows = await _driver_fetch(connection, self.dialect, sql, arguments)
            except BaseException:
                # A statement cut short (an error or a cancelled request) may
                # leave the connection mid-protocol, so it is closed, not reused.
                await asyncio.shield(self._close_one(connection))
                raise
            self._idle.append(connection)
            return rows

    async def close(self) -> None:
        """Close the idle connections; call it once no statement is running."""
        while self._idle:
            await self._close_one(self._idle.pop())

    async def _connect(self) -> Any:
        if self.dialect.name == "sqlite":
            connection = await aiosqlite.connect(
                self._url.database or "", isolation_level=None
            )
            await connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            return connection
        dsn = self._url.set(drivername="postgresql")
        return await asyncpg.connect(dsn.render_as_string(hide_password=False))

    async def _close_one(self, connection: Any) -> None:
        if self.dialect.name == "sqlite":
            await connection.close()
        else:
            connection.terminate()


class SessionReader:
    """A runner like Reader that uses the connection of an open session, so its
    statements run inside that session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.dialect = session.get_bind().dialect

    async def fetch(self, sql: str, arguments: list[Any]) -> list[Sequence[Any]]:
        connection = await self._session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        return await _driver_fetch(driver, self.dialect, sql, arguments)
