"""Write the results of a benchmark run as BENCHMARKS.md."""

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from loaders import LoadedDatabase
from measure import KindResult

FIRST_PAGE_FLOOR_TARGET = 1.5  # first page without total: API p50 / floor p50
CURSOR_DEPTH_TARGET = 1.2  # by cursor: deep page p50 / first page p50
COUNT_TARGET = 3.0  # with total: API / the database's own COUNT, like percentiles
PACKAGES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "aiosqlite", "asyncpg")
PACKAGES += ("httpx", "orjson")


@dataclass(slots=True)
class DatabaseReport:
    """Everything measured on one database in one run."""

    loaded: LoadedDatabase
    version: str
    depth: int
    results: list[KindResult]
    key_lookup_p50: float | None  # None when the API sent no key lookup
    statements: dict[str, str]  # label of a statement -> its SQL
    plans: dict[str, str]  # label of a statement -> its query plan
    load_average: tuple[float, float]  # 1-minute load before and after timing
    notes: list[str] = field(default_factory=list)


# A two-word call log search, at p50 on PostgreSQL, in milliseconds.
SEARCH_TARGET_MS = 50


def git_output(*arguments: str) -> str:
    repository = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        ["git", "-C", str(repository), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() if completed.returncode == 0 else ""


def revision_line() -> str:
    """Describe the ringline code that was measured: commit, and local changes."""
    commit = git_output("rev-parse", "--short", "HEAD") or "unknown"
    if git_output("status", "--porcelain", "--", "ringline"):
        return f"- Ringline: commit {commit}, with uncommitted changes under ringline/"
    return f"- Ringline: commit {commit}"


def machine_lines() -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return [
        f"- CPU: {cpu}, `nproc` = {len(os.sched_getaffinity(0))}",
        f"- Memory: {memory_kib / 1024**2:.1f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        f"- Packages: {packages}",
    ]


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def verdict(is_met: bool) -> str:
    return "met" if is_met else "**not met**"


def floor_cell(result: KindResult) -> str:
    return (
        f"{ms(result.floor_p50)} ({ms(result.database_p50)} + "
        f"{ms(result.framework_p50)})"
    )


def results_table(results: list[KindResult], with_total: bool) -> list[str]:
    header = "| scenario | API p50 | API p99 | floor p50 (DB + framework) "
    header += "| API / floor |"
    rule = "|---|---:|---:|---:|---:|"
    if with_total:
        header += (
            " COUNT p50 | COUNT p99 | API p50 / COUNT p50 | API p99 / COUNT p99 "
            "| API p99 / COUNT p50 |"
        )
        rule += "---:|---:|---:|---:|---:|"
    lines = [header, rule]
    for result in results:
        if result.kind.include_total != with_total:
            continue
        row = (
            f"| {result.kind.scenario.label} | {ms(result.api_p50)} | "
            f"{ms(result.api_p99)} | {floor_cell(result)} | "
            f"{times(result.floor_ratio)} |"
        )
        if with_total:
            row += (
                f" {ms(result.count_p50)} | {ms(result.count_p99)} | "
                f"{times(result.count_ratio)} | {times(result.count_tail_ratio)} | "
                f"{times(result.count_ratio_p99)} |"
            )
        lines.append(row)
    return lines


def find(results: list[KindResult], key: str, include_total: bool) -> KindResult:
    for result in results:
        kind = result.kind
        if kind.scenario.key == key and kind.include_total == include_total:
            return result
    raise KeyError(key)


def target_rows(report: DatabaseReport) -> list[str]:
    rows = ["| target | measured | result |", "|---|---:|---|"]
    for result in report.results:
        if result.kind.scenario.first_page and not result.kind.include_total:
            ratio = result.floor_ratio
            rows.append(
                f"| {result.kind.scenario.label}, no total: API p50 within "
                f"{FIRST_PAGE_FLOOR_TARGET}x floor p50 | {times(ratio)} | "
                f"{verdict(ratio <= FIRST_PAGE_FLOOR_TARGET)} |"
            )
    for include_total in (False, True):
        first = find(report.results, "first", include_total)
        deep = find(report.results, "cursor", include_total)
        ratio = deep.api_p50 / first.api_p50
        suffix = "with total" if include_total else "no total"
        rows.append(
            f"| page {report.depth:,} by cursor within {CURSOR_DEPTH_TARGET}x page 1, "
            f"{suffix} (API p50) | {times(ratio)} | "
            f"{verdict(ratio <= CURSOR_DEPTH_TARGET)} |"
        )
    if report.loaded.kind == "postgresql":
        search = find(report.results, "logs-search", include_total=False)
        rows.append(
            f"| {search.kind.scenario.label}, no total: API p50 under "
            f"{SEARCH_TARGET_MS} ms on PostgreSQL | {ms(search.api_p50)} ms | "
            f"{verdict(search.api_p50 < SEARCH_TARGET_MS)} |"
        )
    for result in report.results:
        if result.kind.include_total and result.count_ratio is not None:
            tail = result.count_tail_ratio
            assert tail is not None
            rows.append(
                f"| {result.kind.scenario.label}, with total: within {COUNT_TARGET}x "
                f"the COUNT (p50 to p50 / p99 to p99) | {times(result.count_ratio)} / "
                f"{times(tail)} | "
                f"p50 {verdict(result.count_ratio <= COUNT_TARGET)}, "
                f"p99 {verdict(tail <= COUNT_TARGET)} |"
            )
    return rows


def details_block(summary: str, items: dict[str, str]) -> list[str]:
    lines = ["<details>", f"<summary>{summary}</summary>", ""]
    for label, text in items.items():
        lines += [f"{label}:", "", "```", text, "```", ""]
    return lines + ["</details>", ""]


def key_lookup_sentence(lookup_p50: float | None) -> str:
    if lookup_p50 is None:
        return (
            "The API sent no API key lookup for a repeated request (the second "
            "request of each kind was captured), so the floor leaves none out."
        )
    return (
        "Besides the statements in the floor, each API request also looks up the "
        f"API key: p50 {ms(lookup_p50)} ms for that statement through the same "
        "driver. The floor leaves it out."
    )


def database_section(report: DatabaseReport) -> list[str]:
    loaded = report.loaded
    title = "SQLite" if loaded.kind == "sqlite" else "PostgreSQL"
    repetitions = report.results[0].repetitions
    lines = [
        f"## {title} {report.version}",
        "",
        f"{loaded.calls:,} calls; the biggest workspace holds "
        f"{loaded.workspace_calls:,} of them, and every request below reads it. "
        f"{repetitions} timed repetitions of each request after warm-up. "
        f"1-minute load average {report.load_average[0]:.2f} before timing and "
        f"{report.load_average[1]:.2f} after. Times in milliseconds.",
        "",
        "Without total (`include_total=false`):",
        "",
        *results_table(report.results, with_total=False),
        "",
        "With total (`include_total=true`):",
        "",
        *results_table(report.results, with_total=True),
        "",
        "Targets:",
        "",
        *target_rows(report),
        "",
        key_lookup_sentence(report.key_lookup_p50),
        "",
    ]
    for note in report.notes:
        lines += [f"NOTE: {note}", ""]
    lines += details_block("SQL sent by the API (captured)", report.statements)
    lines += details_block("Query plans", report.plans)
    return lines


METHOD = """\
## Method

- **API**: `ringline serve` (one uvicorn process, with its in-process worker
  idle) on 127.0.0.1, with the rate limit off and log level `warning`.
  Requests are `GET /v1/calls` with the biggest workspace's key, sent one at a
  time over one keep-alive connection by an `httpx.Client` in the benchmark
  process.
- **Database floor**: the page statement (and the COUNT statement, with total)
  that ringline sends for the same request, captured by running ringline's own
  application in the benchmark process with a listener on its engine. They run
  through the same driver as the server (aiosqlite `execute_fetchall`, asyncpg
  `fetch`, which prepares and caches statements as ringline's asyncpg does) on
  one connection, with all rows fetched.
- **Framework floor**: a bare FastAPI route (`bench/framework_floor.py`, the
  same FastAPI and uvicorn) returning the same response bytes with an ETag,
  timed over HTTP like the API.
- **floor p50** = database floor p50 + framework floor p50. The ratio is API
  p50 / floor p50. COUNT p50 and p99 are the database's own times for the COUNT
  statement alone, run in the same rounds. The with-total target compares like
  percentiles: API p50 to COUNT p50 and API p99 to COUNT p99. The last column,
  API p99 against COUNT p50, is the stricter reading and is shown as well.
- HTTP times include the client's own time (httpx), in the API and in the
  framework floor alike. That raises both by the same amount, so the API /
  floor ratios are lower than the server-side ratios would be.
- Each round sends, for every request kind in turn, one API request, one
  framework request and the statements. They are interleaved, so they share
  the machine's noise, and their order is drawn anew (seeded) each time.
  Whatever goes first follows the previous kind's work, so it finds the
  client, the kernel and the caches colder than the others do. With the API
  always first, first pages on SQLite measured 1.29x to 1.36x their floor.
  With the floors always first, they measured 0.94x to 1.00x (60 rounds each,
  one machine).
- Each round also takes the kinds in a new seeded random order, so that no
  kind always follows the same slow one. Percentiles are nearest-rank.
- Data: synthetic calls from `bench/synthetic_calls.py`, 10 workspaces with
  Zipf-like sizes (the biggest about 40 %), 200 agents (a few take most calls),
  statuses mostly `completed`, `created_at` over 180 days, transcripts on
  completed calls. The schema comes from ringline's migrations; workspaces,
  agents and the key from ringline's services; calls are bulk-inserted, then
  the database is analyzed (PostgreSQL: `VACUUM (ANALYZE)`). PostgreSQL runs
  with its server settings as found.
"""


def render(
    command: str,
    calls: int,
    date: str,
    revision: str,
    reports: list[DatabaseReport],
) -> str:
    """Return the whole Markdown document."""
    lines = [
        "# List Calls and List Call Logs benchmark",
        "",
        "Latency of `GET /v1/calls` on a large call history, next to the floors "
        "set by the database and by the web framework, measured in the same run.",
        "",
        f"- Command: `{command}`",
        f"- Calls (N): {calls:,}",
        f"- Date: {date}",
        revision,
        *machine_lines(),
        "",
        "The machine is shared with other work, so repeated runs differ; compare "
        "ratios within one run rather than absolute times across runs.",
        "",
        "Each kind of request is repeated with the same query string, so the API "
        "times are those of a query string the server has parsed before: the list "
        "services keep the parse and the page's SQL and arguments of the last "
        "1,024 query strings. A query string seen for the first time costs about "
        "130,000 more CPU instructions, a tenth of a first page of List Calls "
        "(counted with callgrind in one process).",
        "",
        "Targets: every first page without total, of calls and of call logs, "
        "within 1.5x its floor; by cursor, the deep page within 1.2x page 1; "
        "with total, no request over 3x the database's own COUNT; a two-word "
        f"call log search under {SEARCH_TARGET_MS} ms at p50 on PostgreSQL.",
        "",
    ]
    for report in reports:
        lines += database_section(report)
    lines.append(METHOD)
    return "\n".join(lines)
