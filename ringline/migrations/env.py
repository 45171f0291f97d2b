"""Alembic environment: runs on the connection handed over by ringline.core.migrations.

When Alembic is run from its own command line, the database comes from
RINGLINE_DATABASE_URL.
"""

import asyncio

from alembic import context
from sqlalchemy import Connection

from ringline.core.database import create_engine
from ringline.core.models import Base
from ringline.core.settings import get_settings

target_metadata = Base.metadata


def run_on_connection(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    url = context.config.attributes.get("database_url") or get_settings().database_url
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(run_on_connection)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on_connection(connection)
else:
    asyncio.run(run_standalone())
