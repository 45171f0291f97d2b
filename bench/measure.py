"""Scenarios of the List Calls benchmark and the timing of API, database and
framework, interleaved request by request so that they share the machine's noise.
"""

import asyncio
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from urllib.parse import urlencode

import aiosqlite
import asyncpg
import httpx
import synthetic_calls as synthetic
from capture import CapturedRequest, Statement
from sqlalchemy.engine import make_url

COMMON_STATUS = "completed"
RARE_STATUS = "retry_expired"
RANGE_DAYS = 7
# The 7-day range starts this many days before the newest call.
RANGE_START_DAYS_BEFORE_END = 60
PAGE_LIMIT = 20
# The seed of the order in which each round takes the request kinds.
ORDER_SEED = 7


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str  # short name, used in file names and routes
    label: str  # what the report calls it
    params: dict[str, str]
    first_page: bool  # first pages are held to the 1.5x-floor target
    path: str = "/v1/calls"


@dataclass(frozen=True, slots=True)
class RequestKind:
    scenario: Scenario
    include_total: bool

    @property
    def name(self) -> str:
        return f"{self.scenario.key}-{'total' if self.include_total else 'nototal'}"

    @property
    def params(self) -> dict[str, str]:
        flag = "true" if self.include_total else "false"
        return {**self.scenario.params, "include_total": flag}


def range_bounds() -> tuple[str, str]:
    """Return from and to as dates: a whole 7-day range, both days inclusive."""
    start = synthetic.END - timedelta(days=RANGE_START_DAYS_BEFORE_END)
    end = start + timedelta(days=RANGE_DAYS - 1)
    return start.date().isoformat(), end.date().isoformat()


def scenarios(busiest_agent_id: str, depth: int, cursor: str) -> list[Scenario]:
    start, end = range_bounds()
    return [
        Scenario("first", "first page, unfiltered", {}, True),
        Scenario("agent", "busiest agent", {"agent_id": busiest_agent_id}, True),
        Scenario(
            "statuses",
            f"status={COMMON_STATUS},{RARE_STATUS}",
            {"status": f"{COMMON_STATUS},{RARE_STATUS}"},
            True,
        ),
        Scenario(
            "range", f"7-day range {start}..{end}", {"from": start, "to": end}, True
        ),
        Scenario("page", f"page {depth:,} by page number", {"page": str(depth)}, False),
        Scenario("cursor", f"page {depth:,} by cursor", {"cursor": cursor}, False),
        *call_log_scenarios(),
    ]


CALL_LOGS = "/v1/call-logs"
# A product and a city: words each in about 1 in 40 transcripts.
SEARCH_WORDS = "cobalt lyon"


def call_log_scenarios() -> list[Scenario]:
    """First pages of GET /v1/call-logs: filtered, sorted by duration, searched."""
    return [
        Scenario(
            "logs-sentiment",
            "call logs, sentiment=negative",
            {"sentiment": "negative"},
            True,
            CALL_LOGS,
        ),
        Scenario(
            "logs-duration",
            "call logs, duration 60..300 s",
            {"duration_min": "60", "duration_max": "300"},
            True,
            CALL_LOGS,
        ),
        Scenario(
            "logs-longest",
            "call logs, sorted by duration desc",
            {"duration": "desc"},
            True,
            CALL_LOGS,
        ),
        Scenario(
            "logs-search",
            f"call logs, q={SEARCH_WORDS}",
            {"q": SEARCH_WORDS},
            True,
            CALL_LOGS,
        ),
    ]


def request_kinds(all_scenarios: Sequence[Scenario]) -> list[RequestKind]:
    return [
        RequestKind(scenario, include_total)
        for include_total in (False, True)
        for scenario in all_scenarios
    ]


def walk_cursor(client: httpx.Client, headers: dict[str, str], depth: int) -> str:
    """Follow next_cursor from page 1 and return the cursor of page `depth`."""
    cursor = None
    for page in range(1, depth):
        params = {"include_total": "false"}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get("/v1/calls", params=params, headers=headers)
        response.raise_for_status()
        meta = response.json()["meta"]
        if meta["page"] != page or meta["next_cursor"] is None:
            raise RuntimeError(
                f"cursor walk failed at page {page}: the response has meta.page "
                f"{meta['page']} and next_cursor {meta['next_cursor']!r}, but a "
                f"next page was expected; pass a lower --depth"
            )
        cursor = meta["next_cursor"]
    if cursor is None:
        raise RuntimeError("the cursor walk needs a depth of at least 2")
    return cursor


# Statistics


def percentile(samples: Sequence[float], percent: float) -> float:
    """Return the nearest-rank percentile of samples."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(slots=True)
class Samples:
    """Latencies of one request kind in milliseconds, one entry per repetition."""

    api: list[float] = field(default_factory=list)
    framework: list[float] = field(default_factory=list)
    page_query: list[float] = field(default_factory=list)
    count_query: list[float] = field(default_factory=list)
    database: list[float] = field(default_factory=list)  # page plus count


@dataclass(frozen=True, slots=True)
class KindResult:
    kind: RequestKind
    api_p50: float
    api_p99: float
    framework_p50: float
    database_p50: float
    page_query_p50: float
    count_p50: float | None
    count_p99: float | None
    repetitions: int

    @property
    def floor_p50(self) -> float:
        return self.framework_p50 + self.database_p50

    @property
    def floor_ratio(self) -> float:
        return self.api_p50 / self.floor_p50

    @property
    def count_ratio(self) -> float | None:
        return None if self.count_p50 is None else self.api_p50 / self.count_p50

    @property
    def count_ratio_p99(self) -> float | None:
        """API p99 against COUNT p50: the tail of one against the middle of
        the other, so machine noise alone can push it over."""
        return None if self.count_p50 is None else self.api_p99 / self.count_p50

    @property
    def count_tail_ratio(self) -> float | None:
        """API p99 against COUNT p99, both tails measured in the same rounds."""
        return None if self.count_p99 is None else self.api_p99 / self.count_p99


def summarize(kind: RequestKind, samples: Samples) -> KindResult:
    return KindResult(
        kind=kind,
        api_p50=percentile(samples.api, 50),
        api_p99=percentile(samples.api, 99),
        framework_p50=percentile(samples.framework, 50),
        database_p50=percentile(samples.database, 50),
        page_query_p50=percentile(samples.page_query, 50),
        count_p50=percentile(samples.count_query, 50) if samples.count_query else None,
        count_p99=percentile(samples.count_query, 99) if samples.count_query else None,
        repetitions=len(samples.api),
    )


# Database drivers


class StatementRunner(Protocol):
    async def run(self, statement: Statement) -> None: ...

    async def close(self) -> None: ...


class SqliteRunner:
    """Runs statements through aiosqlite, configured as ringline configures it."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, database_url: str) -> "SqliteRunner":
        connection = await aiosqlite.connect(make_url(database_url).database)
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA busy_timeout=10000",
            "PRAGMA foreign_keys=ON",
        ):
            await connection.execute(pragma)
        return cls(connection)

    async def run(self, statement: Statement) -> None:
        await self.connection.execute_fetchall(statement.sql, statement.parameters)

    async def close(self) -> None:
        await self.connection.close()


class PostgresRunner:
    """Runs statements through asyncpg, which caches their prepared forms."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, database_url: str) -> "PostgresRunner":
        return cls(await asyncpg.connect(database_url))

    async def run(self, statement: Statement) -> None:
        await self.connection.fetch(statement.sql, *statement.parameters)

    async def close(self) -> None:
        await self.connection.close()


async def open_runner(kind: str, database_url: str) -> StatementRunner:
    if kind == "sqlite":
        return await SqliteRunner.open(database_url)
    return await PostgresRunner.open(database_url)


# Timing
#
# HTTP requests go through httpx's synchronous client. On the 2-core machine the
# benchmark was written on, httpx.AsyncClient cost about 1.7 ms per request to a
# bare route and httpx.Client about 0.9 ms, and that client cost lands in both
# the API and the framework floor. Statements run on an event loop that the
# timing loop drives, and each coroutine times itself, so driving the loop is
# not counted.


def elapsed_ms(started: int) -> float:
    return (time.perf_counter_ns() - started) / 1e6


def timed_get(client: httpx.Client, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter_ns()
    response = client.get(url, headers=headers)
    took = elapsed_ms(started)
    if response.status_code != 200:
        raise RuntimeError(
            f"GET {url} returned {response.status_code}: {response.text[:300]}"
        )
    return took


async def timed_run(runner: StatementRunner, statement: Statement) -> float:
    started = time.perf_counter_ns()
    await runner.run(statement)
    return elapsed_ms(started)


@dataclass(slots=True)
class Target:
    """The API URL, framework floor route and captured SQL of one request kind."""

    kind: RequestKind
    api_url: str
    floor_url: str
    captured: CapturedRequest


def make_targets(
    kinds: Sequence[RequestKind], captured: dict[str, CapturedRequest]
) -> list[Target]:
    return [
        Target(
            kind,
            kind.scenario.path + "?" + urlencode(kind.params),
            f"/{kind.name}",
            captured[kind.name],
        )
        for kind in kinds
    ]


# The three timings of one kind in a round, taken in a new order each time.
STEPS = ("api", "framework", "statements")


@dataclass(slots=True)
class Timer:
    """The two HTTP clients and the statement runner, with the loop that drives it."""

    api: httpx.Client
    floor: httpx.Client
    runner: StatementRunner
    loop: asyncio.Runner
    headers: dict[str, str]

    def statement(self, statement: Statement) -> float:
        return self.loop.run(timed_run(self.runner, statement))

    def statements(self, captured: CapturedRequest) -> tuple[float, float | None]:
        page_ms = self.statement(captured.page)
        count_ms = None
        if captured.count is not None:
            count_ms = self.statement(captured.count)
        return page_ms, count_ms

    def once(
        self, target: Target, order: random.Random
    ) -> tuple[float, float, float, float | None]:
        """Time the API request, the framework request and the statements once
        each, in an order drawn from `order`.

        Whatever runs first follows the previous kind's work, so it finds the
        client, the kernel and the caches colder than the two after it. With the
        API always first, first pages on SQLite came out at 1.29x to 1.36x their
        floor. With the floors always first, they came out at 0.94x to 1.00x.
        """
        api_ms = framework_ms = page_ms = 0.0
        count_ms: float | None = None
        for step in order.sample(STEPS, len(STEPS)):
            if step == "api":
                api_ms = timed_get(self.api, target.api_url, self.headers)
            elif step == "framework":
                framework_ms = timed_get(self.floor, target.floor_url, self.headers)
            else:
                page_ms, count_ms = self.statements(target.captured)
        return api_ms, framework_ms, page_ms, count_ms


def measure(
    targets: Sequence[Target], timer: Timer, warmup: int, repeats: int
) -> dict[str, Samples]:
    """Time every target once per round; the first `warmup` rounds are discarded.

    Each round takes the targets in a new random order (seeded, so runs repeat),
    so every kind follows every other kind about equally often. Rotating one
    fixed order keeps the same neighbours. With it, the unfiltered first page
    always came right after the search with total, the slowest request, and
    was the slowest first page in every run.
    """
    order = random.Random(ORDER_SEED)
    samples = {target.kind.name: Samples() for target in targets}
    for round_number in range(warmup + repeats):
        for target in order.sample(list(targets), len(targets)):
            timings = timer.once(target, order)
            if round_number >= warmup:
                record(samples[target.kind.name], *timings)
    return samples


def record(
    samples: Samples,
    api_ms: float,
    framework_ms: float,
    page_ms: float,
    count_ms: float | None,
) -> None:
    samples.api.append(api_ms)
    samples.framework.append(framework_ms)
    samples.page_query.append(page_ms)
    if count_ms is not None:
        samples.count_query.append(count_ms)
    samples.database.append(page_ms + (count_ms or 0.0))


def time_statement(timer: Timer, statement: Statement, repeats: int) -> float:
    """Return the p50 in milliseconds of one statement run `repeats` times."""
    return percentile([timer.statement(statement) for _ in range(repeats)], 50)


def client(base_url: str) -> httpx.Client:
    """Return a client that keeps one connection alive and ignores proxy settings."""
    return httpx.Client(
        base_url=base_url,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=httpx.Timeout(60.0),
        trust_env=False,
    )
