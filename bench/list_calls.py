"""Benchmark List Calls (GET /v1/calls) on a large call history.

Loads N synthetic calls into SQLite and/or PostgreSQL with ringline's
migrations, starts `ringline serve` on 127.0.0.1 and times the API. Two floors
are measured in the same run: the same SQL through the same driver, and a bare
FastAPI route returning the same bytes. Writes BENCHMARKS.md.

Run from the repository root:

    .venv/bin/python bench/list_calls.py [--calls N] [--database sqlite|postgresql|both]
"""

import argparse
import asyncio
import contextlib
import logging
import math
import os
import secrets
import shlex
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import loaders
import markdown_report
import measure
import plans
import sections
import servers
from capture import CapturedRequest, Statement, capture_requests
from loaders import LoadedDatabase

from ringline.core.logging import configure_logging

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
log = logging.getLogger("bench.list_calls")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=1_000_000, help="calls to load (default 1000000)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="database(s) to benchmark (default both)",
    )

    parser.add_argument(
        "--repeats", type=int, default=200, help="timed rounds (default 200)"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="untimed rounds first (default 20)"
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=1000,
        help="page number of the deep-page scenarios (default 1000); lowered to "
        "the last page when the workspace has fewer pages",
    )
    parser.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="load (or find cached) databases, then stop without timing",
    )

    parser.add_argument(
        "--postgres-admin-url",
        default=DEFAULT_ADMIN_URL,
        help=f"URL of a PostgreSQL database to connect to when creating the "
        f"benchmark database (default {DEFAULT_ADMIN_URL})",
    )
    parser.add_argument(
        "--postgres-database",
        default="ringline_bench",
        help="PostgreSQL database that the benchmark creates, and drops and "
        "recreates when its cached data does not match (default ringline_bench)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPOSITORY / "BENCHMARKS.md",
        help="Markdown file to write (default BENCHMARKS.md at the repository root)",
    )
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.calls < 1000 or arguments.repeats < 1 or arguments.depth < 2:
        parser.error("--calls must be at least 1000, --repeats 1, --depth 2")
    return arguments


def load(kind: str, arguments: argparse.Namespace) -> LoadedDatabase:
    if kind == "sqlite":
        return loaders.load_sqlite(arguments.calls, arguments.seed, log.info)
    return loaders.load_postgres(
        arguments.calls,
        arguments.seed,
        arguments.postgres_admin_url,
        arguments.postgres_database,
        log.info,
    )


def deep_page(loaded: LoadedDatabase, requested: int) -> int:
    pages = math.ceil(loaded.workspace_calls / measure.PAGE_LIMIT)
    return max(2, min(requested, pages))


def write_bodies(directory: Path, captured: dict[str, CapturedRequest]) -> None:
    directory.mkdir()
    for name, request in captured.items():
        (directory / f"{name}.json").write_bytes(request.body)


def statement_text(statement: Statement) -> str:
    parameters = ", ".join(repr(value) for value in statement.parameters)
    return f"{statement.sql}\n-- parameters: {parameters}"


def distinct_statements(
    kinds: list[measure.RequestKind], captured: dict[str, CapturedRequest]
) -> dict[str, Statement]:
    """Return each distinct page and COUNT statement under a readable label."""
    distinct: dict[str, Statement] = {}
    seen: set[Statement] = set()
    for kind in kinds:
        request = captured[kind.name]
        candidates = [(f"page query, {kind.scenario.label}", request.page)]
        if request.count is not None:
            candidates.append((f"COUNT, {kind.scenario.label}", request.count))
        for label, statement in candidates:
            if statement not in seen:
                seen.add(statement)
                distinct[label] = statement
    return distinct


def key_lookup(targets: list[measure.Target]) -> Statement | None:
    """Return the API key lookup that the API sent, if any request sent one."""
    for target in targets:
        for statement in target.captured.others:
            sql = statement.sql.lstrip()
            if sql.upper().startswith("SELECT") and "api_keys" in sql:
                return statement
    return None


async def database_version(runner: measure.StatementRunner) -> str:
    if isinstance(runner, measure.PostgresRunner):
        return await runner.connection.fetchval("SHOW server_version")
    return sqlite3.sqlite_version


def time_and_explain(
    loaded: LoadedDatabase,
    targets: list[measure.Target],
    timer: measure.Timer,
    arguments: argparse.Namespace,
) -> tuple[dict[str, measure.Samples], float | None, dict[str, str]]:
    """Run the interleaved timing, then time the key lookup and explain the SQL."""
    log.info("%s: timing %d request kinds", loaded.kind, len(targets))
    samples = measure.measure(targets, timer, arguments.warmup, arguments.repeats)
    lookup = key_lookup(targets)
    lookup_p50 = None
    if lookup is not None:
        lookup_p50 = measure.time_statement(timer, lookup, arguments.repeats)
    kinds = [target.kind for target in targets]
    captured = {target.kind.name: target.captured for target in targets}
    query_plans = {}
    for label, statement in distinct_statements(kinds, captured).items():
        query_plans[label] = timer.loop.run(
            plans.explain(loaded.kind, timer.runner.connection, statement)
        )
    return samples, lookup_p50, query_plans


def start_framework_floor(
    workdir: Path, kind: str, captured: dict[str, CapturedRequest]
) -> contextlib.AbstractContextManager[str]:
    bodies = workdir / f"{kind}-bodies"
    write_bodies(bodies, captured)
    floor_dir = workdir / f"{kind}-framework"
    floor_dir.mkdir()
    port = servers.free_port()
    return servers.running_server(
        servers.framework_floor_command(port),
        servers.framework_floor_environment(bodies),
        floor_dir,
        "/healthz",
        port,
    )


def start_ringline(
    workdir: Path, loaded: LoadedDatabase, secret_key: str
) -> contextlib.AbstractContextManager[str]:
    server_dir = workdir / f"{loaded.kind}-ringline"
    server_dir.mkdir()
    port = servers.free_port()
    environment = servers.ringline_environment(loaded.url, secret_key, server_dir)
    return servers.running_server(
        servers.ringline_command(port), environment, server_dir, "/readyz", port
    )


def bench_database(
    loaded: LoadedDatabase, arguments: argparse.Namespace, workdir: Path
) -> markdown_report.DatabaseReport:
    """Start both servers, capture the SQL, time everything and build the report."""
    secret_key = secrets.token_urlsafe(48)
    headers = {"authorization": f"Bearer {loaded.token}"}
    depth = deep_page(loaded, arguments.depth)
    with contextlib.ExitStack() as stack:
        loop = stack.enter_context(asyncio.Runner())
        api_url = stack.enter_context(start_ringline(workdir, loaded, secret_key))
        api = stack.enter_context(measure.client(api_url))
        log.info("%s: walking the cursor chain to page %d", loaded.kind, depth)
        cursor = measure.walk_cursor(api, headers, depth)
        kinds = measure.request_kinds(
            measure.scenarios(loaded.busiest_agent_id, depth, cursor)
        )
        captured = loop.run(
            capture_requests(
                loaded.url,
                secret_key,
                loaded.token,
                {kind.name: (kind.scenario.path, kind.params) for kind in kinds},
            )
        )
        floor_url = stack.enter_context(
            start_framework_floor(workdir, loaded.kind, captured)
        )
        floor = stack.enter_context(measure.client(floor_url))
        runner = loop.run(measure.open_runner(loaded.kind, loaded.url))
        stack.callback(lambda: loop.run(runner.close()))
        timer = measure.Timer(api, floor, runner, loop, headers)
        load_before = os.getloadavg()[0]
        targets = measure.make_targets(kinds, captured)
        samples, lookup_p50, query_plans = time_and_explain(
            loaded, targets, timer, arguments
        )
        load_after = os.getloadavg()[0]
        version = loop.run(database_version(runner))

    notes = []
    if depth != arguments.depth:
        notes.append(
            f"the biggest workspace has only {depth:,} pages of "
            f"{measure.PAGE_LIMIT}, so the deep-page scenarios read page {depth:,} "
            f"instead of {arguments.depth:,}."
        )
    statements = {
        label: statement_text(statement)
        for label, statement in distinct_statements(kinds, captured).items()
    }
    return markdown_report.DatabaseReport(
        loaded=loaded,
        version=version,
        depth=depth,
        results=[measure.summarize(kind, samples[kind.name]) for kind in kinds],
        key_lookup_p50=lookup_p50,
        statements=statements,
        plans=query_plans,
        load_average=(load_before, load_after),
        notes=notes,
    )


def command_line(argv: list[str]) -> str:
    script = Path(sys.argv[0])
    if script.is_absolute() and script.is_relative_to(REPOSITORY):
        script = script.relative_to(REPOSITORY)
    return shlex.join([".venv/bin/python", str(script), *argv])


def main(argv: list[str]) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr
    )
    # httpx logs every request at INFO, which would add to every timing.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    arguments = parse_arguments(argv)

    # The in-process capture runs ringline's app, which logs every request.
    configure_logging("warning")
    kinds = (
        ["sqlite", "postgresql"]
        if arguments.database == "both"
        else [arguments.database]
    )

    started = datetime.now(UTC)
    # Taken before the servers start, because ringline may change during a run.
    revision = markdown_report.revision_line()
    reports = []
    with tempfile.TemporaryDirectory(prefix="ringline-bench-") as workdir:
        for kind in kinds:
            loaded = load(kind, arguments)
            if not arguments.load_only:
                reports.append(bench_database(loaded, arguments, Path(workdir)))
    if arguments.load_only:
        return 0

    document = markdown_report.render(
        command_line(argv),
        arguments.calls,
        started.strftime("%Y-%m-%d %H:%M UTC"),
        revision,
        reports,
    )
    for heading in sections.OTHER_HEADINGS:
        document = sections.keep_section(arguments.output, heading, document)
    arguments.output.write_text(document)
    log.info("wrote %s", arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
