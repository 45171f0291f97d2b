"""Shared plumbing of the command line: settings, sessions and error exits."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.database import create_engine, create_sessionmaker, transaction
from ringline.core.errors import RinglineError
from ringline.core.settings import Settings, SettingsError

T = TypeVar("T")


class CliState:
    settings: Settings


state = CliState()


@asynccontextmanager
async def cli_transaction() -> AsyncIterator[AsyncSession]:
    engine = create_engine(state.settings.database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine and turn expected errors into a message and exit code 1."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except (RinglineError, SettingsError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except (DBAPIError, OSError) as error:
        typer.echo(f"error: {describe_database_error(error)}", err=True)
        raise typer.Exit(1) from None


def describe_database_error(error: Exception) -> str:
    url = make_url(state.settings.database_url).render_as_string(hide_password=True)
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    if "no such table" in reason or (
        "relation" in reason and "does not exist" in reason
    ):
        return f"the database {url} has no Ringline schema; run `ringline migrate`"
    return f"cannot use the database {url}: {reason}; check RINGLINE_DATABASE_URL"
