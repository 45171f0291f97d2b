"""`ringline serve`: migrate, make a first key on an empty database, then serve."""

import asyncio
import signal
from typing import Annotated

import typer
import uvicorn

from ringline.app import create_app
from ringline.cli.runtime import cli_transaction, run, state
from ringline.core.database import (
    create_engine,
    create_sessionmaker,
    read_only,
)
from ringline.core.logging import configure_logging
from ringline.core.migrations import migrate
from ringline.core.protocol import server_protocol
from ringline.core.settings import Settings, SettingsError, resolve_secret_key
from ringline.dialing.worker import create_worker
from ringline.keys.service import create_key
from ringline.webhooks.outbox import event_session_info
from ringline.workspaces.service import create_workspace, has_any_workspace


async def _prepare_database(database_url: str) -> tuple[str, str] | None:
    await migrate(database_url)
    return await _bootstrap()


async def _bootstrap() -> tuple[str, str] | None:
    """Create a first workspace and key when the database has no workspace yet."""
    async with cli_transaction() as session:
        if await has_any_workspace(session):
            return None
        workspace = await create_workspace(session, "Default workspace")
        _, token = await create_key(session, workspace.id, "first key")
        return workspace.id, token


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _print_first_key(workspace_id: str, token: str, host: str, port: int) -> None:
    typer.echo(
        f"Created workspace {workspace_id} and an API key with every permission.\n"
        "The key is shown only this once; keep it:\n\n"
        f"  {token}\n\n"
        "Try it:\n\n"
        f'  curl -H "Authorization: Bearer {token}" http://{host}:{port}/v1/calls\n'
    )


def serve(
    host: Annotated[
        str, typer.Option(envvar="RINGLINE_HOST", help="Address to listen on.")
    ] = DEFAULT_HOST,
    port: Annotated[
        int,
        typer.Option(
            envvar="RINGLINE_PORT", min=1, max=65535, help="TCP port to listen on."
        ),
    ] = DEFAULT_PORT,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            envvar="RINGLINE_SERVE_WORKER",
            help="Also run a worker that places calls in this process.",
        ),
    ] = True,
) -> None:
    """Migrate the database if needed, then serve the HTTP API with a worker."""
    settings = state.settings
    configure_logging(settings.log_level, json_lines=settings.is_production)
    try:
        resolve_secret_key(settings)
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None

    first = run(lambda: _prepare_database(settings.database_url))
    if first is not None:
        _print_first_key(*first, host, port)

    uvicorn.run(
        create_app(settings, run_worker=with_worker),
        host=host,
        port=port,
        access_log=False,
        proxy_headers=False,
        http=server_protocol(settings.header_timeout_seconds),
        # No route takes WebSockets, so upgrade requests are served as plain HTTP.
        ws="none",
    )


def worker() -> None:
    """Run only a worker that places queued calls, for scaling out."""
    settings = state.settings
    configure_logging(settings.log_level, json_lines=settings.is_production)
    run(lambda: migrate(settings.database_url))
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        await create_worker(
            settings,
            create_sessionmaker(
                engine, event_session_info(settings, resolve_secret_key(settings))
            ),
            create_sessionmaker(read_only(engine)),
        ).run(stop)
    finally:
        await engine.dispose()
