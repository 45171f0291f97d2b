"""Build the benchmark databases: ringline's migrations and services, then bulk rows.

Each loaded database is cached and reused by later runs with the same number of
calls, seed and migration head. A SQLite database is a file under bench/data/.
The PostgreSQL database is recognised by a load id kept both in its database
comment and in a manifest file under bench/data/.
"""

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import synthetic_calls as synthetic
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from ringline.agents.service import create_agent
from ringline.core.database import create_engine, create_sessionmaker, transaction
from ringline.core.migrations import alembic_config, migrate
from ringline.keys.service import create_key
from ringline.workspaces.service import create_workspace

DATA_DIR = Path(__file__).resolve().parent / "data"
# Bump when the generated data changes, so that old caches are not reused.
GENERATOR_VERSION = 3
CHUNK_SIZE = 50_000
NAIVE_EPOCH = datetime(1970, 1, 1)
AWARE_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TIMESTAMP_INDEXES = [
    synthetic.CALL_COLUMNS.index(name) for name in synthetic.TIMESTAMP_COLUMNS
]


@dataclass(frozen=True, slots=True)
class LoadedDatabase:
    """A loaded database and what the benchmark needs to query it."""

    kind: str  # "sqlite" or "postgresql"
    url: str  # the URL ringline is given, e.g. sqlite:////abs/path.db
    calls: int
    seed: int
    migration_head: str
    generator_version: int
    load_id: str
    workspace_id: str  # the biggest workspace
    workspace_calls: int
    busiest_agent_id: str
    token: str  # API key of the biggest workspace, calls:read only
    load_seconds: float


def migration_head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    return head or "none"


def sqlite_timestamp(milliseconds: int | None) -> str | None:
    """Format as UTCDateTime stores on SQLite: 'YYYY-MM-DDTHH:MM:SS.fffZ'."""
    if milliseconds is None:
        return None
    value = NAIVE_EPOCH + timedelta(milliseconds=milliseconds)
    return value.isoformat(timespec="milliseconds") + "Z"


def postgres_timestamp(milliseconds: int | None) -> datetime | None:
    if milliseconds is None:
        return None
    return AWARE_EPOCH + timedelta(milliseconds=milliseconds)


def converted_chunks(
    generator: synthetic.CallGenerator,
    count: int,
    convert: Callable[[int | None], object],
) -> Iterator[list[tuple[object, ...]]]:
    for chunk in generator.rows(count, CHUNK_SIZE):
        converted = []
        for row in chunk:
            values = list(row)
            for index in TIMESTAMP_INDEXES:
                values[index] = convert(values[index])  # type: ignore[arg-type]
            converted.append(tuple(values))
        yield converted


async def create_entities(url: str, seed: int) -> tuple[synthetic.DatasetPlan, str]:
    """Create workspaces, agents and one key with ringline's own services.

    Returns the dataset plan and the key's token.
    """
    counts = synthetic.agents_per_workspace(synthetic.workspace_shares())
    engine = create_engine(url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            workspace_ids, agent_ids = [], []
            for index, agent_count in enumerate(counts):
                workspace = await create_workspace(session, f"Bench {index + 1}")
                workspace_ids.append(workspace.id)
                agents = []
                for number in range(agent_count):
                    title = f"Agent {number + 1}"
                    agent = await create_agent(session, workspace.id, title, True)
                    agents.append(agent.id)
                agent_ids.append(agents)
            _, token = await create_key(
                session, workspace_ids[0], "benchmark", ["calls:read"]
            )
    finally:
        await engine.dispose()
    return synthetic.make_plan(workspace_ids, agent_ids, seed), token


def read_manifest(path: Path) -> LoadedDatabase | None:
    if not path.exists():
        return None
    try:
        return LoadedDatabase(**json.loads(path.read_text()))
    except (TypeError, ValueError):
        return None


def write_manifest(path: Path, loaded: LoadedDatabase) -> None:
    path.write_text(json.dumps(asdict(loaded), indent=2) + "\n")


def is_reusable(
    manifest: LoadedDatabase | None, calls: int, seed: int, head: str
) -> bool:
    return (
        manifest is not None
        and manifest.calls == calls
        and manifest.seed == seed
        and manifest.migration_head == head
        and manifest.generator_version == GENERATOR_VERSION
    )


# SQLite


def sqlite_paths(calls: int, seed: int) -> tuple[Path, Path]:
    stem = f"sqlite-{calls}-seed{seed}"
    return DATA_DIR / f"{stem}.db", DATA_DIR / f"{stem}.json"


def insert_sqlite_rows(
    path: Path, generator: synthetic.CallGenerator, count: int
) -> None:
    placeholders = ", ".join("?" for _ in synthetic.CALL_COLUMNS)
    statement = (
        f"INSERT INTO calls ({', '.join(synthetic.CALL_COLUMNS)}) "
        f"VALUES ({placeholders})"
    )
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1048576")  # 1 GiB, in KiB
        for chunk in converted_chunks(generator, count, sqlite_timestamp):
            connection.executemany(statement, chunk)
            connection.commit()
        connection.execute("ANALYZE")
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def sqlite_workspace_calls(path: Path, workspace_id: str) -> int:
    connection = sqlite3.connect(path)
    try:
        query = "SELECT count(*) FROM calls WHERE workspace_id = ?"
        return connection.execute(query, (workspace_id,)).fetchone()[0]
    finally:
        connection.close()


def remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def load_sqlite(calls: int, seed: int, log: Callable[[str], None]) -> LoadedDatabase:
    """Return the cached SQLite database for these inputs, loading it if needed."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path, manifest_path = sqlite_paths(calls, seed)
    url = f"sqlite:///{path}"
    head = migration_head(url)
    manifest = read_manifest(manifest_path)
    if is_reusable(manifest, calls, seed, head) and path.exists():
        log(f"sqlite: reusing {path}")
        return manifest  # type: ignore[return-value]

    # Load into a temporary name so that an interrupted load is never reused.
    partial = path.with_suffix(".partial.db")
    remove_sqlite_files(partial)
    remove_sqlite_files(path)
    manifest_path.unlink(missing_ok=True)
    started = time.perf_counter()
    log(f"sqlite: loading {calls:,} calls into {path}")
    partial_url = f"sqlite:///{partial}"
    asyncio.run(migrate(partial_url))
    plan, token = asyncio.run(create_entities(partial_url, seed))
    insert_sqlite_rows(partial, synthetic.CallGenerator(plan, seed), calls)
    partial.rename(path)
    loaded = LoadedDatabase(
        kind="sqlite",
        url=url,
        calls=calls,
        seed=seed,
        migration_head=head,
        generator_version=GENERATOR_VERSION,
        load_id=uuid.uuid4().hex,
        workspace_id=plan.biggest_workspace_id,
        workspace_calls=sqlite_workspace_calls(path, plan.biggest_workspace_id),
        busiest_agent_id=plan.busiest_agent_id,
        token=token,
        load_seconds=round(time.perf_counter() - started, 1),
    )
    write_manifest(manifest_path, loaded)
    log(f"sqlite: loaded in {loaded.load_seconds} s")
    return loaded


# PostgreSQL


def postgres_url(admin_url: str, database: str) -> str:
    url = make_url(admin_url).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


async def database_comment(admin_url: str, database: str) -> str | None:
    connection = await asyncpg.connect(postgres_url(admin_url, "postgres"))
    try:
        return await connection.fetchval(
            "SELECT shobj_description(oid, 'pg_database') "
            "FROM pg_database WHERE datname = $1",
            database,
        )
    finally:
        await connection.close()


async def recreate_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


async def copy_postgres_rows(
    url: str, generator: synthetic.CallGenerator, calls: int, load_id: str
) -> None:
    connection = await asyncpg.connect(url)
    try:
        for chunk in converted_chunks(generator, calls, postgres_timestamp):
            await connection.copy_records_to_table(
                "calls", records=chunk, columns=list(synthetic.CALL_COLUMNS)
            )
        # VACUUM sets the visibility map, as autovacuum would soon after a load,
        # so that counts can use index-only scans. It also runs ANALYZE.
        await connection.execute("VACUUM (ANALYZE)")
        name = make_url(url).database
        await connection.execute(f"COMMENT ON DATABASE \"{name}\" IS '{load_id}'")
    finally:
        await connection.close()


async def postgres_workspace_calls(url: str, workspace_id: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        query = "SELECT count(*) FROM calls WHERE workspace_id = $1"
        return await connection.fetchval(query, workspace_id)
    finally:
        await connection.close()


def load_postgres(
    calls: int, seed: int, admin_url: str, database: str, log: Callable[[str], None]
) -> LoadedDatabase:
    """Return the cached PostgreSQL database for these inputs, loading it if needed."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    manifest_path = DATA_DIR / f"postgresql-{database}.json"
    url = postgres_url(admin_url, database)
    head = migration_head(url)
    manifest = read_manifest(manifest_path)
    if is_reusable(manifest, calls, seed, head):
        comment = asyncio.run(database_comment(admin_url, database))
        if manifest is not None and comment == manifest.load_id:
            log(f"postgresql: reusing database {database}")
            return manifest

    manifest_path.unlink(missing_ok=True)
    started = time.perf_counter()
    log(f"postgresql: loading {calls:,} calls into database {database}")
    asyncio.run(recreate_database(admin_url, database))
    asyncio.run(migrate(url))
    plan, token = asyncio.run(create_entities(url, seed))
    load_id = uuid.uuid4().hex
    generator = synthetic.CallGenerator(plan, seed)
    asyncio.run(copy_postgres_rows(url, generator, calls, load_id))
    workspace_calls = asyncio.run(
        postgres_workspace_calls(url, plan.biggest_workspace_id)
    )
    loaded = LoadedDatabase(
        kind="postgresql",
        url=url,
        calls=calls,
        seed=seed,
        migration_head=head,
        generator_version=GENERATOR_VERSION,
        load_id=load_id,
        workspace_id=plan.biggest_workspace_id,
        workspace_calls=workspace_calls,
        busiest_agent_id=plan.busiest_agent_id,
        token=token,
        load_seconds=round(time.perf_counter() - started, 1),
    )
    write_manifest(manifest_path, loaded)
    log(f"postgresql: loaded in {loaded.load_seconds} s")
    return loaded
