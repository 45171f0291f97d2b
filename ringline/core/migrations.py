"""Bring a database schema up to date with the Alembic migrations in the package."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect

from ringline.core.database import create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def _upgrade(connection: Connection, database_url: str) -> None:
    config = alembic_config(database_url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(database_url: str) -> None:
    """Apply every pending migration; a database already at head is left as it is."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, database_url)
    finally:
        await engine.dispose()


def _has_schema(connection: Connection) -> bool:
    return inspect(connection).has_table("alembic_version")


async def schema_exists(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_has_schema)
    finally:
        await engine.dispose()
