"""Synthetic call history with the skew of a real deployment.

Calls are spread over 10 workspaces and 200 agents with Zipf-like weights (the
biggest workspace gets about 40 % of the calls, and a few agents get most of
their workspace's calls). Statuses are mostly `completed`, `created_at` spans
180 days with more calls lately and during the day, and completed calls carry a
transcript whose length follows the call's duration.

Timestamps are integer milliseconds since the Unix epoch, in UTC, and the loaders
convert them to the form each database stores.
"""

import bisect
import itertools
import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

WORKSPACE_COUNT = 10
AGENT_COUNT = 200
WORKSPACE_ZIPF_EXPONENT = 1.2  # gives the biggest workspace about 40 % of calls
AGENT_ZIPF_EXPONENT = 1.1
MIN_AGENTS_PER_WORKSPACE = 3
SPAN_DAYS = 180
# The newest call is just before this instant, so cached data never depends on
# the day the benchmark runs.
END = datetime(2026, 12, 1, tzinfo=UTC)
END_MS = int(END.timestamp() * 1000)
DAY_MS = 86_400_000
SPAN_MS = SPAN_DAYS * DAY_MS
# Only calls created in the last hour may still be in progress.
ACTIVE_WINDOW_MS = 3_600_000
ACTIVE_SHARE = 0.3

ID_ALPHABET = string.digits + string.ascii_lowercase
ID_RANDOM_LENGTH = 20

# Columns of the calls table in the order that rows are produced.
CALL_COLUMNS = (
    "id",
    "workspace_id",
    "agent_id",
    "agent_version_number",
    "batch_call_id",
    "type",
    "call_direction",
    "from_phone_number",
    "to_phone_number",
    "status",
    "end_reason",
    "duration_ms",
    "recording_path",
    "metadata",
    "transcript",
    "scheduled_at",
    "created_at",
    "updated_at",
    "initiated_at",
    "answered_at",
    "ended_at",
    "sentiment",
    "summary",
    "analysis_status",
    "latency_ms",
)
TIMESTAMP_COLUMNS = (
    "scheduled_at",
    "created_at",
    "updated_at",
    "initiated_at",
    "answered_at",
    "ended_at",
)

FINAL_STATUS_WEIGHTS = {
    "completed": 0.68,
    "did_not_pick": 0.12,
    "busy": 0.06,
    "no_answer": 0.05,
    "failed": 0.04,
    "cancelled": 0.04,
    "retry_expired": 0.01,
}
ACTIVE_STATUSES = ("created", "initiated", "sent", "received")
END_REASON_WEIGHTS: dict[str, dict[str | None, float]] = {
    "completed": {
        "user_disconnected": 0.55,
        "agent_disconnected": 0.35,
        "voicemail_detected": 0.04,
        "silence_timeout": 0.04,
        "max_duration_reached": 0.02,
    },
    "did_not_pick": {"user_did_not_pick_up": 1.0},
    "busy": {"user_busy": 1.0},
    "no_answer": {"user_unreachable": 1.0},
    "failed": {
        "network_failure": 0.4,
        "invalid_phone_number": 0.2,
        "sip_trunk_unreachable": 0.1,
        "system_at_capacity": 0.1,
        "destination_forbidden": 0.1,
        "unknown": 0.05,
        "worker_lost": 0.05,
    },
    "cancelled": {None: 1.0},
    "retry_expired": {"user_did_not_pick_up": 1.0},
}
# Share of calls per hour of the day (UTC): most calls are placed in office hours.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 10, 9, 10, 10, 10, 9, 8, 6, 4, 3]
HOUR_WEIGHTS += [2, 1, 1]
BATCH_SHARE = 0.35
BATCHES_PER_WORKSPACE_DAY = 3
INBOUND_SHARE = 0.12
WEB_SHARE = 0.05
SCHEDULED_SHARE = 0.05
# Transcript text per second of talk, and the largest transcript produced.
TRANSCRIPT_CHARS_PER_SECOND = 15
MAX_TRANSCRIPT_CHARS = 12_000
# Names that transcripts carry one of each: every word is in about 1 in 40
# transcripts, and a given pair in about 1 in 1,600.
PRODUCTS = tuple(
    "aurora basalt cobalt dynamo ember falcon garnet harbor indigo jasper kestrel "
    "lumen magnet nimbus onyx pelican quartz raven saffron tundra umber vortex "
    "walnut xenon yarrow zephyr anvil beacon cinder dune fjord glacier hazel "
    "iris juniper krypton lagoon meteor nectar orchid".split()
)
CITIES = tuple(
    "aberdeen bergen cork dresden essen florence geneva hamburg innsbruck "
    "jena kassel lyon malaga nantes oslo porto quimper rennes seville turin "
    "utrecht valencia warsaw york zurich antwerp bilbao calais delft eindhoven "
    "faro graz hanover ibiza krakow leipzig munich nice ostend parma".split()
)
SENTIMENTS = ("positive", "neutral", "negative", "unknown")
SENTIMENT_WEIGHTS = (0.45, 0.35, 0.15, 0.05)
SUMMARY_CHARS = 120
CAMPAIGNS = ("renewal", "onboarding", "survey", "collections", "reminder", "upsell")
WORDS = (
    "hello thanks calling about your account appointment tomorrow morning "
    "confirm please yes no maybe later balance payment invoice delivery order "
    "number address change cancel schedule agent customer help question sure "
    "great understood minute time date week month call back email text"
).split()


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    workspace_index: int
    phone_number: str  # the number the agent calls from and is called on


@dataclass(slots=True)
class DatasetPlan:
    """Workspaces and agents of a dataset, and the weights that pick them.

    The ids come from the rows that ringline's services create, which draw them
    at random, so only the rows built on one plan are reproducible from a seed.
    """

    workspace_ids: list[str]
    workspace_cum_weights: list[float]
    agents_by_workspace: list[list[Agent]]
    agent_cum_weights: list[list[float]]
    batch_ids: dict[tuple[int, int, int], str] = field(default_factory=dict)

    @property
    def biggest_workspace_id(self) -> str:
        return self.workspace_ids[0]

    @property
    def busiest_agent_id(self) -> str:
        """Return the agent with the highest weight in the biggest workspace."""
        return self.agents_by_workspace[0][0].id


def zipf_weights(count: int, exponent: float) -> list[float]:
    raw = [1 / rank**exponent for rank in range(1, count + 1)]
    total = sum(raw)
    return [weight / total for weight in raw]


def cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def agents_per_workspace(shares: Sequence[float]) -> list[int]:
    """Split AGENT_COUNT over workspaces by share (largest remainder), min 3 each."""
    spare = AGENT_COUNT - MIN_AGENTS_PER_WORKSPACE * len(shares)
    exact = [share * spare for share in shares]
    counts = [int(value) for value in exact]
    by_remainder = sorted(
        range(len(shares)), key=lambda i: exact[i] - counts[i], reverse=True
    )
    for index in by_remainder[: spare - sum(counts)]:
        counts[index] += 1
    return [count + MIN_AGENTS_PER_WORKSPACE for count in counts]


def random_id(rng: random.Random, prefix: str) -> str:
    """Return an id of ringline's form: prefix, '_' and 20 characters of [0-9a-z]."""
    return f"{prefix}_{''.join(rng.choices(ID_ALPHABET, k=ID_RANDOM_LENGTH))}"


def random_phone_number(rng: random.Random) -> str:
    """Return a North American E.164 number with a valid area and exchange code."""
    area = rng.randrange(201, 990)
    exchange = rng.randrange(200, 1000)
    return f"+1{area}{exchange}{rng.randrange(10_000):04d}"


class CallGenerator:
    """Produces call rows in created_at order from a seeded random generator."""

    def __init__(self, plan: DatasetPlan, seed: int) -> None:
        self.plan = plan
        self.rng = random.Random(seed)
        corpus_rng = random.Random(seed + 1)
        self.corpus = " ".join(corpus_rng.choices(WORDS, k=400_000))
        self.status_names = list(FINAL_STATUS_WEIGHTS)
        self.status_cum = cumulative(list(FINAL_STATUS_WEIGHTS.values()))
        self.end_reasons = {
            status: (list(weights), cumulative(list(weights.values())))
            for status, weights in END_REASON_WEIGHTS.items()
        }
        self.hour_cum = cumulative(HOUR_WEIGHTS)

    def created_times(self, count: int) -> list[int]:
        """Return sorted creation times: daily volume grows linearly over the span."""
        rng = self.rng
        start_day = (END_MS - SPAN_MS) // DAY_MS
        times = []
        for _ in range(count):
            day = start_day + int(SPAN_DAYS * rng.random() ** 0.5)
            hour = bisect.bisect_right(self.hour_cum, rng.random() * self.hour_cum[-1])
            offset_ms = hour * 3_600_000 + rng.randrange(3_600_000)
            times.append(day * DAY_MS + offset_ms)
        times.sort()
        return times

    def rows(self, count: int, chunk_size: int) -> Iterator[list[tuple[object, ...]]]:
        """Yield lists of at most chunk_size rows whose values follow CALL_COLUMNS."""
        times = self.created_times(count)
        for start in range(0, count, chunk_size):
            chunk_times = times[start : start + chunk_size]
            workspaces = self.rng.choices(
                range(len(self.plan.workspace_ids)),
                cum_weights=self.plan.workspace_cum_weights,
                k=len(chunk_times),
            )
            yield [
                self.row(created, workspace)
                for created, workspace in zip(chunk_times, workspaces, strict=True)
            ]

    def pick_agent(self, workspace: int) -> Agent:
        weights = self.plan.agent_cum_weights[workspace]
        index = bisect.bisect_right(weights, self.rng.random() * weights[-1])
        return self.plan.agents_by_workspace[workspace][index]

    def pick_status(self, created: int) -> str:
        if created > END_MS - ACTIVE_WINDOW_MS and self.rng.random() < ACTIVE_SHARE:
            return self.rng.choice(ACTIVE_STATUSES)
        index = bisect.bisect_right(
            self.status_cum, self.rng.random() * self.status_cum[-1]
        )
        return self.status_names[index]

    def pick_end_reason(self, status: str) -> str | None:
        if status not in self.end_reasons:
            return None
        names, cum = self.end_reasons[status]
        return names[bisect.bisect_right(cum, self.rng.random() * cum[-1])]

    def batch_id(self, workspace: int, created: int) -> str | None:
        if self.rng.random() >= BATCH_SHARE:
            return None
        key = (
            workspace,
            created // DAY_MS,
            self.rng.randrange(BATCHES_PER_WORKSPACE_DAY),
        )
        if key not in self.plan.batch_ids:
            self.plan.batch_ids[key] = random_id(self.rng, "batch")
        return self.plan.batch_ids[key]

    def transcript(self, duration_ms: int) -> str:
        """Return common words for the talk's length, and one product and one city
        that the callee names, as real calls name things few other calls do."""
        length = min(
            MAX_TRANSCRIPT_CHARS, duration_ms // 1000 * TRANSCRIPT_CHARS_PER_SECOND
        )
        start = self.rng.randrange(len(self.corpus) - length)
        product, city = self.rng.choice(PRODUCTS), self.rng.choice(CITIES)
        named = f"User: my {product} order for {city} please."
        return self.corpus[start : start + length] + "\n" + named

    def row(self, created: int, workspace: int) -> tuple[object, ...]:
        rng = self.rng
        agent = self.pick_agent(workspace)
        status = self.pick_status(created)
        times, duration_ms = self.lifecycle(created, status)
        customer = random_phone_number(rng)
        inbound = rng.random() < INBOUND_SHARE
        metadata = {
            "customer_id": f"cus_{rng.randrange(10**8):08d}",
            "campaign": rng.choice(CAMPAIGNS),
        }
        transcript = None
        analysis: tuple[object, ...] = (None, None, "not_applicable", None)
        if status == "completed" and duration_ms is not None:
            transcript = self.transcript(duration_ms)
            analysis = self.analysis(transcript)
        return (
            random_id(rng, "call"),
            self.plan.workspace_ids[workspace],
            agent.id,
            1,
            self.batch_id(workspace, created),
            "web" if rng.random() < WEB_SHARE else "phone",
            "inbound" if inbound else "outbound",
            customer if inbound else agent.phone_number,
            agent.phone_number if inbound else customer,
            status,
            self.pick_end_reason(status),
            duration_ms,
            None,
            orjson.dumps(metadata).decode(),
            transcript,
            *(times[name] for name in TIMESTAMP_COLUMNS),
            *analysis,
        )

    def analysis(self, transcript: str) -> tuple[object, ...]:
        """Return sentiment, summary, analysis status and latency of a call that
        was picked up. A summary is the transcript's opening words."""
        sentiment = self.rng.choices(SENTIMENTS, SENTIMENT_WEIGHTS)[0]
        summary = transcript[:SUMMARY_CHARS] or None
        return (sentiment, summary, "completed", self.rng.randrange(300, 2500))

    def lifecycle(
        self, created: int, status: str
    ) -> tuple[dict[str, int | None], int | None]:
        """Return the timestamps and duration_ms that fit a call with this status."""
        rng = self.rng
        scheduled = None
        if created < END_MS - DAY_MS and rng.random() < SCHEDULED_SHARE:
            scheduled = created + rng.randrange(60_000, DAY_MS)
        times: dict[str, int | None] = {
            "scheduled_at": scheduled,
            "created_at": created,
            "initiated_at": None,
            "answered_at": None,
            "ended_at": None,
        }
        duration_ms: int | None = 0
        dial_start = (scheduled or created) + rng.randrange(200, 5_000)
        if status in ("cancelled", "retry_expired"):
            times["ended_at"] = dial_start
        elif status in ACTIVE_STATUSES and status != "received":
            duration_ms = None
            if status != "created":
                times["initiated_at"] = dial_start
        elif status in ("received", "completed"):
            duration_ms = self.answer(times, dial_start, status == "completed")
        else:
            times["initiated_at"] = dial_start
            ring_ms = 30_000 if status == "did_not_pick" else rng.randrange(500, 8_000)
            times["ended_at"] = dial_start + ring_ms
        stamps = [value for value in times.values() if value is not None]
        times["updated_at"] = max(stamps)
        return times, duration_ms

    def answer(
        self, times: dict[str, int | None], dial_start: int, finished: bool
    ) -> int | None:
        """Fill the times of an answered call and return its duration_ms.

        The duration is None while the call is still live.
        """
        times["initiated_at"] = dial_start
        answered = dial_start + self.rng.randrange(3_000, 20_000)
        times["answered_at"] = answered
        if not finished:
            return None
        duration = int(self.rng.lognormvariate(11.3, 0.8))
        times["ended_at"] = answered + duration
        return duration


def make_plan(
    workspace_ids: Sequence[str], agent_ids: Sequence[Sequence[str]], seed: int
) -> DatasetPlan:
    """Build the plan from ids listed biggest workspace and busiest agent first."""
    rng = random.Random(seed + 2)
    agents = [
        [Agent(agent_id, index, random_phone_number(rng)) for agent_id in ids]
        for index, ids in enumerate(agent_ids)
    ]
    return DatasetPlan(
        workspace_ids=list(workspace_ids),
        workspace_cum_weights=cumulative(workspace_shares()),
        agents_by_workspace=agents,
        agent_cum_weights=[
            cumulative(zipf_weights(len(ids), AGENT_ZIPF_EXPONENT)) for ids in agent_ids
        ],
    )


def workspace_shares() -> list[float]:
    return zipf_weights(WORKSPACE_COUNT, WORKSPACE_ZIPF_EXPONENT)
