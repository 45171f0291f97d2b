"""The `ringline` command line."""

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from ringline.agents.schemas import AgentUpdate
from ringline.agents.service import create_agent, get_agent, update_agent
from ringline.calls.exporter import export_calls
from ringline.calls.importer import ImportFileError, import_calls
from ringline.cli.demo import demo
from ringline.cli.runtime import cli_transaction, run, state
from ringline.cli.serve import serve, worker
from ringline.core.migrations import migrate as migrate_database
from ringline.core.settings import Settings
from ringline.core.time import utc_now
from ringline.core.timestamps import TimestampError, parse_timestamp
from ringline.keys.cache import mark_revoked
from ringline.keys.models import ApiKey
from ringline.keys.service import create_key, list_keys, parse_permissions, revoke_key
from ringline.workspaces.service import create_workspace, parse_countries

app = typer.Typer(
    help="Ringline: AI phone calls with a DialNexa-compatible API.",
    no_args_is_help=True,
    add_completion=False,
)
workspaces_app = typer.Typer(help="Manage workspaces.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
agents_app = typer.Typer(help="Manage agents.", no_args_is_help=True)
calls_app = typer.Typer(help="Import and export call history.", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(keys_app, name="keys")
app.add_typer(agents_app, name="agents")
app.add_typer(calls_app, name="calls")
app.command()(serve)
app.command()(worker)
app.command()(demo)

WorkspaceOption = Annotated[
    str,
    typer.Option(
        "--workspace", envvar="RINGLINE_WORKSPACE", help="Workspace id (ws_…)."
    ),
]


@app.callback()
def main(
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="RINGLINE_DATABASE_URL",
            help="SQLite file (sqlite:///path) or PostgreSQL URL (postgresql://…).",
        ),
    ] = None,
) -> None:
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = "RINGLINE_" + str(problem["loc"][0]).upper()
            typer.echo(f"error: {name}: {problem['msg']}", err=True)
        raise typer.Exit(2) from None
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    state.settings = settings


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    run(lambda: migrate_database(state.settings.database_url))
    typer.echo("database is up to date", err=True)


@workspaces_app.command("create")
def workspaces_create(
    name: str,
    from_phone_number: Annotated[
        str | None,
        typer.Option(
            envvar="RINGLINE_WORKSPACE_FROM_PHONE_NUMBER",
            help="Default caller number (E.164) when an agent sets none.",
        ),
    ] = None,
    countries: Annotated[
        str | None,
        typer.Option(
            envvar="RINGLINE_WORKSPACE_COUNTRIES",
            help="Comma-separated ISO 3166 codes calls may go to; all if omitted.",
        ),
    ] = None,
    concurrency_limit: Annotated[
        int,
        typer.Option(
            envvar="RINGLINE_WORKSPACE_CONCURRENCY_LIMIT",
            help="Calls of the workspace that may be active at once.",
        ),
    ] = 10,
) -> None:
    """Create a workspace and print its id."""

    async def work() -> str:
        async with cli_transaction() as session:
            workspace = await create_workspace(
                session,
                name,
                from_phone_number,
                parse_countries(countries),
                concurrency_limit,
            )
            return workspace.id

    typer.echo(run(work))


@keys_app.command("create")
def keys_create(
    workspace: WorkspaceOption,
    name: Annotated[
        str, typer.Option(envvar="RINGLINE_KEY_NAME", help="A label for the key.")
    ] = "default",
    permissions: Annotated[
        str | None,
        typer.Option(
            envvar="RINGLINE_KEY_PERMISSIONS",
            help="Comma-separated permissions; all of them when omitted.",
        ),
    ] = None,
    expires_at: Annotated[
        str | None,
        typer.Option(
            envvar="RINGLINE_KEY_EXPIRES_AT",
            help="ISO 8601 timestamp after which the key stops working.",
        ),
    ] = None,
) -> None:
    """Create an API key and print it; the secret is shown only this once."""

    async def work() -> str:
        expiry = _parse_expiry(expires_at)
        async with cli_transaction() as session:
            allowed = parse_permissions(permissions)
            _, token = await create_key(session, workspace, name, allowed, expiry)
            return token

    typer.echo(run(work))


def _key_state(key: ApiKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= utc_now():
        return "expired"
    return "active"


def _parse_expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp("--expires-at", value)
    except TimestampError as error:
        raise typer.BadParameter(str(error)) from None


@keys_app.command("list")
def keys_list(workspace: WorkspaceOption) -> None:
    """List the keys of a workspace, without their secrets."""

    async def work() -> list[str]:
        async with cli_transaction() as session:
            keys = await list_keys(session, workspace)
        return [
            "\t".join(
                [
                    key.id,
                    key.name,
                    ",".join(key.permissions),
                    _key_state(key),
                    f"expires {key.expires_at:%Y-%m-%dT%H:%M:%SZ}"
                    if key.expires_at
                    else "no expiry",
                    f"last used {key.last_used_at:%Y-%m-%dT%H:%M:%SZ}"
                    if key.last_used_at
                    else "never used",
                ]
            )
            for key in keys
        ]

    for line in run(work):
        typer.echo(line)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key; requests with it fail from now on."""

    async def work() -> None:
        async with cli_transaction() as session:
            await revoke_key(session, key_id)

    run(work)
    mark_revoked(state.settings.database_url)
    typer.echo(f"revoked {key_id}", err=True)


@agents_app.command("create")
def agents_create(
    workspace: WorkspaceOption,
    title: Annotated[
        str,
        typer.Option(
            envvar="RINGLINE_AGENT_TITLE", help="Agent title, 1 to 100 characters."
        ),
    ],
    publish: Annotated[
        bool,
        typer.Option(
            envvar="RINGLINE_AGENT_PUBLISH",
            help="Publish version 1 so calls can use it.",
        ),
    ] = False,
) -> None:
    """Create an agent and print its id."""

    async def work() -> str:
        async with cli_transaction() as session:
            return (await create_agent(session, workspace, title, publish)).id

    typer.echo(run(work))


@agents_app.command("publish")
def agents_publish(
    workspace: WorkspaceOption,
    agent_id: Annotated[str, typer.Argument(help="The agent id (agent_…).")],
) -> None:
    """Publish the agent's draft version and open the next draft."""

    async def work() -> int:
        async with cli_transaction() as session:
            agent = await get_agent(session, workspace, agent_id)
            draft = agent["draft_version"]
            body = AgentUpdate(version_number=draft, is_published=True)
            await update_agent(session, workspace, agent_id, body)
            return draft

    typer.echo(f"published version {run(work)} of {agent_id}", err=True)


@calls_app.command("import")
def calls_import(
    workspace: WorkspaceOption,
    file: Annotated[Path, typer.Argument(help="A JSON Lines or CSV file.")],
) -> None:
    """Load call history; valid rows are loaded in one transaction.

    Exits 0 when every row loaded, 1 when some rows were rejected (the valid ones
    are still loaded), and 2 when the file is unusable and nothing was loaded.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        typer.echo(f"error: nothing loaded: {file} is not UTF-8 text", err=True)
        raise typer.Exit(2) from None
    except OSError as error:
        typer.echo(f"error: cannot read {file}: {error.strerror}", err=True)
        raise typer.Exit(2) from None

    async def work():  # type: ignore[no-untyped-def]
        async with cli_transaction() as session:
            return await import_calls(session, workspace, text, file.name)

    try:
        report = run(work)
    except ImportFileError as error:
        typer.echo(f"error: nothing loaded: {error}", err=True)
        raise typer.Exit(2) from None
    for number, reasons in report.rejected:
        typer.echo(f"row {number}: {'; '.join(reasons)}", err=True)
    typer.echo(f"loaded {report.loaded} rows, rejected {len(report.rejected)} rows")
    if report.rejected:
        raise typer.Exit(1)


@calls_app.command("export")
def calls_export(
    workspace: WorkspaceOption,
    file_format: Annotated[
        str,
        typer.Option("--format", envvar="RINGLINE_EXPORT_FORMAT", help="jsonl or csv."),
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option(
            envvar="RINGLINE_EXPORT_OUTPUT",
            help="File to write; standard output if omitted.",
        ),
    ] = None,
    agent_id: Annotated[
        str | None,
        typer.Option(
            envvar="RINGLINE_EXPORT_AGENT_ID", help="Agent ids, comma-separated."
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(envvar="RINGLINE_EXPORT_STATUS", help="Statuses or aliases."),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            envvar="RINGLINE_EXPORT_FROM",
            help="created_at lower bound, inclusive.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            envvar="RINGLINE_EXPORT_TO", help="created_at upper bound, inclusive."
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(envvar="RINGLINE_EXPORT_TIMEZONE", help="IANA zone for dates."),
    ] = None,
) -> None:
    """Write calls as JSON Lines or CSV, newest first, with List Calls filters."""
    if file_format not in ("jsonl", "csv"):
        raise typer.BadParameter("--format must be jsonl or csv")
    params = {
        name: value
        for name, value in {
            "agent_id": agent_id,
            "status": status,
            "from": from_,
            "to": to,
            "timezone": timezone,
        }.items()
        if value is not None
    }

    try:
        target = output.open("w", newline="") if output else sys.stdout
    except OSError as error:
        typer.echo(f"error: cannot write {output}: {error.strerror}", err=True)
        raise typer.Exit(1) from None

    async def work() -> int:
        try:
            async with cli_transaction() as session:
                return await export_calls(
                    session, workspace, params, target, file_format
                )
        finally:
            if output:
                target.close()

    count = run(work)
    typer.echo(f"exported {count} calls", err=True)
