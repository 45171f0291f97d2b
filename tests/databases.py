"""Real databases for tests: a migrated SQLite file or PostgreSQL database each.

The schema is built once per session by the migrations into a template, and every
database handed to a test is a fresh copy of it, so no test cleans up by deleting
rows.
"""

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from ringline.core.migrations import migrate

POSTGRES_URL = os.environ.get("RINGLINE_TEST_POSTGRES_URL")
KINDS = ["sqlite", "postgresql"]


def _admin_dsn() -> str:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _postgres_url(database: str) -> str:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_admin_dsn())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class TemplateDatabases:
    """Makes fresh migrated databases by copying a template migrated once."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._sqlite_template: Path | None = None
        self._postgres_template: str | None = None
        self._postgres_databases: list[str] = []

    def _sqlite(self) -> str:
        if self._sqlite_template is None:
            template = self.workdir / "template.db"
            asyncio.run(migrate(f"sqlite:///{template}"))
            self._sqlite_template = template
        target = self.workdir / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self._sqlite_template, target)
        return f"sqlite:///{target}"

    def _postgres(self) -> str:
        if self._postgres_template is None:
            name = f"ringline_template_{uuid.uuid4().hex[:12]}"
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            self._postgres_databases.append(name)
            asyncio.run(migrate(_postgres_url(name)))
            self._postgres_template = name
        name = f"ringline_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(
            _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self._postgres_template}"')
        )
        self._postgres_databases.append(name)
        return _postgres_url(name)

    def create(self, kind: str) -> str:
        return self._sqlite() if kind == "sqlite" else self._postgres()

    def drop_all(self) -> None:
        for name in reversed(self._postgres_databases):
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def template_databases(workdir: Path) -> Iterator[TemplateDatabases]:
    databases = TemplateDatabases(workdir)
    try:
        yield databases
    finally:
        databases.drop_all()
