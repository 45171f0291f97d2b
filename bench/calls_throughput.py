"""Benchmark: accepted creates per second, and sandbox calls run by one worker.

Part one posts calls over HTTP to `ringline serve --no-worker` and to a bare
FastAPI route that inserts one row (the floor), with the same load, and reports
both rates. Part two schedules K calls for one instant, starts one `ringline
worker` process, and reports how many calls it ran at once and the lag between
when each status was due and when it was stored.

Run from the repository root:
    .venv/bin/python bench/calls_throughput.py [--database sqlite|postgresql|both]
"""

import argparse
import asyncio
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import httpx
import orjson
from markdown_report import revision_line
from sections import THROUGHPUT_HEADING, replace_section
from sqlalchemy import func, select, text

from ringline.agents.schemas import AgentCreate, AgentUpdate
from ringline.agents.service import create_agent_from_request, update_agent
from ringline.calls.lifecycle import create_calls
from ringline.calls.models import Call, CallEvent
from ringline.calls.schemas import CallCreate
from ringline.core.database import (
    create_engine,
    create_sessionmaker,
    read_only,
    transaction,
)
from ringline.core.migrations import migrate
from ringline.keys.service import create_key
from ringline.workspaces.service import create_workspace

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
RESULTS = BENCH_DIR / "results" / "calls_throughput.md"
BENCHMARKS = BENCH_DIR.parent / "BENCHMARKS.md"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
RING_SECONDS = 3.0
TURN_SECONDS = 1.0
ACTIVE = ("initiated", "sent", "received")
DESCRIPTION = """\
How fast `POST /v1/calls` accepts calls next to a bare route that inserts one
row, and how one `ringline worker` process keeps up with calls that all fall due
at one instant: "dial lag" is the time from a call's `scheduled_at` to its stored
`initiated_at`; "answer lag" is the time from its `call_ringing` event plus the
ring time to its stored `answered_at`. Absolute create rates are low because the
Python load generator shares the two cores with the servers; compare the ratio."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def fresh_database(kind: str, name: str) -> str:
    if kind == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DATA_DIR / name}.db{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{DATA_DIR / name}.db"
    else:
        connection = await asyncpg.connect(POSTGRES_ADMIN)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    await migrate(url)
    return url


async def seed(url: str, concurrency: int) -> tuple[str, str, str]:
    """Create a workspace with the given concurrency limit, a key and an agent."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    agent_body = AgentCreate(
        title="Bench agent",
        prompt_text="- Your appointment is on Friday.\n- Can you confirm?",
    )
    async with transaction(sessionmaker) as session:
        workspace = await create_workspace(
            session, "Bench", "+15550100100", None, concurrency
        )
        _, token = await create_key(session, workspace.id)
        agent = await create_agent_from_request(session, workspace.id, agent_body)
        await update_agent(
            session,
            workspace.id,
            agent["id"],
            AgentUpdate(version_number=1, is_published=True),
        )
    await engine.dispose()
    return workspace.id, token, agent["id"]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen(
            command, cwd=BENCH_DIR.parent, env=env, stdout=output, stderr=output
        )


def wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited early")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def base_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGLINE_")}
    env.update(
        {
            "RINGLINE_DATABASE_URL": url,
            "RINGLINE_RATE_LIMIT": "0",
            "RINGLINE_LOG_LEVEL": "warning",
            "RINGLINE_SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "RINGLINE_SPEECH_SYNTHESIS": "false",
            "RINGLINE_RECORDINGS_DIR": str(DATA_DIR / "recordings"),
        }
    )
    return env


async def post_load(
    url: str, bodies: list[dict], headers: dict[str, str], connections: int
) -> tuple[float, list[float], int]:
    """Post every body with a fixed number of connections; return rate, latencies
    in milliseconds, and the count of 201 answers.

    The load goes out through aiohttp. httpx.AsyncClient cost about 2.2 ms of
    CPU per request at 32 connections, so on two cores it capped the bare
    route at about 200 a second and hid most of the gap between the floor and
    the API.
    """
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    accepted = 0
    headers = {**headers, "content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:

        async def sender() -> None:
            nonlocal accepted
            while not queue.empty():
                body = orjson.dumps(queue.get_nowait())
                started = time.perf_counter()
                async with client.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append((time.perf_counter() - started) * 1000)
                accepted += response.status == 201

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies, accepted


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def destination(rng: random.Random) -> str:
    # Endings 01 to 08 pick special sandbox outcomes; 10 to 99 are conversations.
    return f"+1555010{rng.randint(0, 99):02d}{rng.randint(10, 99)}"


async def measure_creates(kind: str, requests: int, connections: int) -> dict:
    url = await fresh_database(kind, "ringline_bench_creates")
    _, token, agent_id = await seed(url, 10)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE floor_calls (id VARCHAR(64) PRIMARY KEY, body TEXT)")
        )
    await engine.dispose()
    rng = random.Random(1)
    bodies = [
        {"agent_id": agent_id, "phone_number": destination(rng), "metadata": {"n": i}}
        for i in range(requests)
    ]
    headers = {"Authorization": f"Bearer {token}"}
    env = base_env(url)
    results = {}

    api_port, floor_port = free_port(), free_port()
    api = start(
        [
            sys.executable,
            "-m",
            "ringline",
            "serve",
            "--no-worker",
            "--port",
            str(api_port),
        ],
        env,
        DATA_DIR / "api.log",
    )
    floor = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "throughput_floor_app:app",
            "--port",
            str(floor_port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--app-dir",
            str(BENCH_DIR),
        ],
        {**env, "FLOOR_DATABASE_URL": url},
        DATA_DIR / "floor.log",
    )
    try:
        wait_ready(f"http://127.0.0.1:{api_port}/healthz", api)
        wait_ready(f"http://127.0.0.1:{floor_port}/docs", floor)
        warm = bodies[:100]
        await post_load(f"http://127.0.0.1:{api_port}/v1/calls", warm, headers, 4)
        await post_load(f"http://127.0.0.1:{floor_port}/floor", warm, {}, 4)
        # Alternate halves so that machine noise falls on both alike.
        half = len(bodies) // 2
        for name, port, path, chunk in (
            ("api", api_port, "/v1/calls", bodies[:half]),
            ("floor", floor_port, "/floor", bodies[:half]),
            ("api", api_port, "/v1/calls", bodies[half:]),
            ("floor", floor_port, "/floor", bodies[half:]),
        ):
            rate, latencies, accepted = await post_load(
                f"http://127.0.0.1:{port}{path}", chunk, headers, connections
            )
            entry = results.setdefault(name, {"rates": [], "latencies": [], "ok": 0})
            entry["rates"].append(rate)
            entry["latencies"] += latencies
            entry["ok"] += accepted
    finally:
        for process in (api, floor):
            process.terminate()
            process.wait(timeout=30)
    return results


async def schedule_calls(url: str, count: int, at: datetime) -> list[str]:
    workspace_id, _, agent_id = await seed(url, count)
    engine = create_engine(url)
    rng = random.Random(2)
    bodies = [
        CallCreate(
            agent_id=agent_id,
            phone_number=destination(rng),
            scheduled_at=at.isoformat(),
        )
        for _ in range(count)
    ]
    created = await create_calls(engine, workspace_id, bodies)
    await engine.dispose()
    return [orjson.loads(answer.body)["id"] for answer in created]


async def measure_worker(kind: str, count: int) -> dict:
    url = await fresh_database(kind, f"ringline_bench_worker_{count}")
    due = datetime.now(UTC) + timedelta(seconds=10 + count * 0.01)
    await schedule_calls(url, count, due)
    env = base_env(url) | {
        "RINGLINE_WORKER_CAPACITY": str(max(count, 1000)),
        "RINGLINE_SANDBOX_RING_SECONDS": str(RING_SECONDS),
        "RINGLINE_SANDBOX_TURN_SECONDS": str(TURN_SECONDS),
    }
    worker = start(
        [sys.executable, "-m", "ringline", "worker"], env, DATA_DIR / "worker.log"
    )
    engine = create_engine(url)
    reader = create_sessionmaker(read_only(engine))
    peak = 0
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            async with reader() as session:
                active = await session.scalar(
                    select(func.count()).where(Call.status.in_(ACTIVE))
                )
                waiting = await session.scalar(
                    select(func.count()).where(Call.status == "created")
                )
            peak = max(peak, active or 0)
            if not active and not waiting:
                break
            await asyncio.sleep(0.25)
    finally:
        worker.terminate()
        worker.wait(timeout=120)
    lags = await status_lags(reader, due)
    await engine.dispose()
    return {"count": count, "peak": peak, **lags}


async def status_lags(reader, due: datetime) -> dict:  # type: ignore[no-untyped-def]
    """Lag of each stored status behind its due time, in milliseconds.

    Dialing is due at the scheduled instant; an answer is due one ring time
    after ringing began.
    """
    async with reader() as session:
        calls = (await session.execute(select(Call.id, Call.initiated_at))).all()
        ringing = dict(
            (
                await session.execute(
                    select(CallEvent.call_id, CallEvent.occurred_at).where(
                        CallEvent.event == "call_ringing"
                    )
                )
            ).all()
        )
        answered = dict(
            (
                await session.execute(
                    select(CallEvent.call_id, CallEvent.occurred_at).where(
                        CallEvent.event == "call_answered"
                    )
                )
            ).all()
        )
    dial = [(initiated - due).total_seconds() * 1000 for _, initiated in calls]
    answer = [
        (answered[call_id] - ringing[call_id]).total_seconds() * 1000
        - RING_SECONDS * 1000
        for call_id in answered
        if call_id in ringing
    ]
    both = dial + answer
    return {
        "dial_p50": percentile(dial, 0.5),
        "dial_p99": percentile(dial, 0.99),
        "answer_p50": percentile(answer, 0.5) if answer else float("nan"),
        "answer_p99": percentile(answer, 0.99) if answer else float("nan"),
        "all_p50": percentile(both, 0.5),
        "all_p99": percentile(both, 0.99),
    }


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB, "
        f"Python {platform.python_version()}, espeak-ng "
        f"{'installed' if shutil.which('espeak-ng') else 'absent'} (speech off)"
    )


def report(kind: str, creates: dict, workers: list[dict]) -> str:
    api, floor = creates["api"], creates["floor"]
    api_rate = statistics.mean(api["rates"])
    floor_rate = statistics.mean(floor["rates"])
    lines = [
        f"### {kind}",
        "",
        "| creates over HTTP | accepted/s | p50 ms | p99 ms | 201s |",
        "|---|---|---|---|---|",
        f"| POST /v1/calls | {api_rate:.0f} | {percentile(api['latencies'], 0.5):.1f} "
        f"| {percentile(api['latencies'], 0.99):.1f} | {api['ok']} |",
        f"| floor: bare route inserting one row | {floor_rate:.0f} "
        f"| {percentile(floor['latencies'], 0.5):.1f} "
        f"| {percentile(floor['latencies'], 0.99):.1f} | {floor['ok']} |",
        "",
        f"Floor rate / API rate: **{floor_rate / api_rate:.2f}×** (target ≤ 2×).",
        "",
        "| calls scheduled for one instant | ran at once (peak) "
        "| dial lag p50 / p99 ms | answer lag p50 / p99 ms "
        "| all status lags p50 / p99 ms |",
        "|---|---|---|---|---|",
    ]
    for result in workers:
        lines.append(
            f"| {result['count']} | {result['peak']} "
            f"| {result['dial_p50']:.0f} / {result['dial_p99']:.0f} "
            f"| {result['answer_p50']:.0f} / {result['answer_p99']:.0f} "
            f"| {result['all_p50']:.0f} / {result['all_p99']:.0f} |"
        )
    for result in workers:
        if result["count"] == 1000:
            verdict = "met" if result["all_p99"] < 250 else "**not met**"
            lines += [
                "",
                "Target at 1,000 concurrent calls on one worker, p99 of all status "
                f"lags under 250 ms: {verdict} ({result['all_p99']:.0f} ms).",
            ]
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--concurrent", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]

    sections = [
        THROUGHPUT_HEADING,
        "",
        DESCRIPTION,
        "",
        f"Command: `.venv/bin/python bench/calls_throughput.py --database "
        f"{args.database} --requests {args.requests} --connections {args.connections} "
        f"--concurrent {' '.join(map(str, args.concurrent))}`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine()}.  ",
        revision_line().removeprefix("- ") + ".  ",
        f"Sandbox pacing: ring {RING_SECONDS} s, turn {TURN_SECONDS} s; the load "
        "generator runs on the same machine as the servers.",
        "",
    ]
    for kind in kinds:
        creates = await measure_creates(kind, args.requests, args.connections)
        workers = [await measure_worker(kind, count) for count in args.concurrent]
        section = report(kind, creates, workers)
        print(section, flush=True)  # noqa: T201
        sections.append(section)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(sections))
    replace_section(BENCHMARKS, THROUGHPUT_HEADING, "\n".join(sections))


if __name__ == "__main__":
    asyncio.run(main())
