"""Benchmark: webhook deliveries per second from one worker, fast and slow.

Stores N events for a receiver that responds at once, starts one `ringline
worker`, and measures the delivery rate and the lag from each event's
creation to its first arrival. Then it does the same with a second webhook
whose receiver responds after two seconds, taking events at the same time, and
compares the fast receiver's rate. Writes a section of BENCHMARKS.md.

Run from the repository root:
    .venv/bin/python bench/webhooks.py [--database sqlite|postgresql|both]
"""

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from calls_throughput import (
    BENCH_DIR,
    DATA_DIR,
    base_env,
    free_port,
    fresh_database,
    percentile,
    start,
    wait_ready,
)
from markdown_report import revision_line
from sections import WEBHOOKS_HEADING, replace_section
from sqlalchemy import insert

from ringline.core.database import create_engine, create_sessionmaker, transaction
from ringline.core.ids import new_id
from ringline.core.time import utc_now
from ringline.webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from ringline.workspaces.service import create_workspace

RESULTS = BENCH_DIR / "results" / "webhooks.md"
BENCHMARKS = BENCH_DIR.parent / "BENCHMARKS.md"
RATE_TARGET = 500
SLOWDOWN_TARGET = 0.10


async def store_events(url: str, receiver: str, fast: int, slow: int) -> None:
    """Store fast events for /fast and slow ones for /slow, all due now."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    now = utc_now()
    async with transaction(sessionmaker) as session:
        workspace = await create_workspace(session, "Bench", "+15550100100", None)
        hooks = {}
        for name in ("fast", "slow"):
            hooks[name] = new_id("webhook")
            session.add(
                Webhook(
                    id=hooks[name],
                    workspace_id=workspace.id,
                    url=f"{receiver}/{name}",
                    events=["call_ended"],
                    secret="whsec_YmVuY2gtc2VjcmV0LWtleS0wMTIzNDU2Nzg5",
                    is_active=True,
                    retry_count=5,
                    timeout_ms=10_000,
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.flush()
        events, deliveries = [], []
        for name, count in (("fast", fast), ("slow", slow)):
            for index in range(count):
                event_id = new_id("evt")
                call_id = new_id("call")
                body = {"event_id": event_id, "event_type": "call_ended", "n": index}
                events.append(
                    {
                        "id": event_id,
                        "workspace_id": workspace.id,
                        "call_id": call_id,
                        "event_type": "call_ended",
                        "sequence": 1,
                        "body": orjson.dumps(body),
                        "created_at": now,
                    }
                )
                deliveries.append(
                    {
                        "id": new_id("delivery"),
                        "webhook_id": hooks[name],
                        "event_id": event_id,
                        "workspace_id": workspace.id,
                        "event_type": "call_ended",
                        "call_id": call_id,
                        "attempt": 1,
                        "state": "pending",
                        "due_at": now,
                        "created_at": now,
                    }
                )
        for start_at in range(0, len(events), 1000):
            await session.execute(
                insert(WebhookEvent), events[start_at : start_at + 1000]
            )
            await session.execute(
                insert(WebhookDelivery), deliveries[start_at : start_at + 1000]
            )
    await engine.dispose()


def run_receiver(port: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "uvicorn", "webhook_receiver:app",
        "--app-dir", str(BENCH_DIR), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return start(command, dict(os.environ), log)


async def measure(kind: str, fast: int, slow: int) -> dict:
    """Deliver the events with one worker; return the fast receiver's rate and
    the lag of fast deliveries."""
    url = await fresh_database(kind, "ringline_bench_webhooks")
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    receiver = run_receiver(port, DATA_DIR / "receiver.log")
    try:
        wait_ready(f"{receiver_url}/arrivals", receiver)
        created = time.time()
        await store_events(url, receiver_url, fast, slow)
        env = base_env(url)
        env["RINGLINE_WEBHOOK_ALLOW_PRIVATE"] = "true"
        worker = start(
            [sys.executable, "-m", "ringline", "worker"], env, DATA_DIR / "worker.log"
        )
        try:
            arrivals = wait_for_arrivals(receiver_url, fast, timeout_s=300)
        finally:
            worker.terminate()
            worker.wait(30)
    finally:
        receiver.terminate()
        receiver.wait(30)

    times = sorted(at for path, _event, at in arrivals if path == "/fast")
    elapsed = times[-1] - times[0]
    lags = [(at - created) * 1000 for at in times]
    return {
        "kind": kind,
        "fast": fast,
        "slow": slow,
        "rate": (len(times) - 1) / elapsed if elapsed > 0 else float("inf"),
        "lag_p50": percentile(lags, 0.5),
        "lag_p99": percentile(lags, 0.99),
    }


def wait_for_arrivals(receiver_url: str, fast: int, timeout_s: float) -> list:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        arrivals = httpx.get(f"{receiver_url}/arrivals", timeout=30).json()
        if sum(1 for path, _, _ in arrivals if path == "/fast") >= fast:
            return arrivals
        time.sleep(0.5)
    raise RuntimeError(f"not every fast event arrived within {timeout_s} s")


def report(results: list[dict], command: str) -> str:
    lines = [
        WEBHOOKS_HEADING,
        "",
        "Events stored for one webhook whose receiver answers at once, then one",
        "`ringline worker` started to send them; the second run adds a webhook",
        "whose receiver answers after 2 s, with its own events due at the same",
        "time. The lag is from storing the events to their first arrival, so it",
        "includes the worker's start. The receiver, the worker and the database",
        "share the machine's two cores. Each round runs both, one after the",
        "other; the targets are judged on the medians over the rounds.",
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} "
        f"cores, Python {platform.python_version()}.  ",
        revision_line().removeprefix("- ") + ".",
        "",
    ]
    for kind in sorted({result["kind"] for result in results}):
        runs = [r for r in results if r["kind"] == kind]
        alone = [r for r in runs if r["slow"] == 0]
        shared = [r for r in runs if r["slow"] > 0]
        alone_rate = statistics.median(r["rate"] for r in alone)
        shared_rate = statistics.median(r["rate"] for r in shared)
        slowdown = 1 - shared_rate / alone_rate
        lines += [
            f"### {kind}",
            "",
            "| round | run | fast events | slow events | fast deliveries/s | "
            "lag p50 / p99 ms |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for result in runs:
            label = "with a slow one" if result["slow"] else "fast receiver alone"
            lines.append(
                f"| {result['round']} | {label} | {result['fast']:,} | "
                f"{result['slow']:,} | {result['rate']:.0f} | "
                f"{result['lag_p50']:.0f} / {result['lag_p99']:.0f} |"
            )
        rate_met = "met" if alone_rate >= RATE_TARGET else "**not met**"
        slow_met = "met" if slowdown <= SLOWDOWN_TARGET else "**not met**"
        lines += [
            "",
            f"Medians over the rounds: {alone_rate:.0f}/s alone, "
            f"{shared_rate:.0f}/s beside the slow receiver.",
            "",
            f"At least {RATE_TARGET} deliveries/s to a fast receiver: {rate_met} "
            f"({alone_rate:.0f}/s). A slow receiver costs the fast one at most "
            f"{SLOWDOWN_TARGET:.0%} of its rate: {slow_met} ({slowdown:.1%}).",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--slow-events", type=int, default=1000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of each kind, alternated; the medians are compared (default 3)",
    )
    arguments = parser.parse_args()
    kinds = (
        ["sqlite", "postgresql"]
        if arguments.database == "both"
        else [arguments.database]
    )
    results = []
    for kind in kinds:
        # The two runs alternate, so that the machine's noise falls on both.
        for round_number in range(1, arguments.rounds + 1):
            for slow in (0, arguments.slow_events):
                result = asyncio.run(measure(kind, arguments.events, slow))
                results.append({**result, "round": round_number})
    command = ".venv/bin/python bench/webhooks.py " + " ".join(sys.argv[1:])
    section = report(results, command.strip())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(section + "\n")
    replace_section(BENCHMARKS, WEBHOOKS_HEADING, section)
    print(section, flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
