"""Capture the SQL that ringline sends for a request, and the response body.

The request runs through ringline's own application in this process, with a
listener on its engine and on the statements it sends straight to the driver,
so the statements are exactly those the server sends: the same query builders,
the same bound parameters after type processing.
"""

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from ringline.app import create_app
from ringline.calls import repository
from ringline.core.settings import Settings


@dataclass(frozen=True, slots=True)
class Statement:
    """A SQL statement in the driver's own parameter style, with its parameters."""

    sql: str
    parameters: tuple[Any, ...]


@dataclass(slots=True)
class CapturedRequest:
    page: Statement  # the statement that reads the page of calls
    count: Statement | None  # the COUNT statement, sent when include_total is true
    others: list[Statement] = field(default_factory=list)  # e.g. the key lookup
    body: bytes = b""


def is_count(sql: str) -> bool:
    return "count(" in sql.lower()


def reads_calls(sql: str) -> bool:
    return "FROM calls" in sql


def classify(statements: list[Statement], body: bytes) -> CapturedRequest:
    """Sort captured statements into the page query, the count and the rest."""
    pages = [s for s in statements if reads_calls(s.sql) and not is_count(s.sql)]
    counts = [s for s in statements if reads_calls(s.sql) and is_count(s.sql)]
    others = [s for s in statements if not reads_calls(s.sql)]
    if len(pages) != 1 or len(counts) > 1:
        raise RuntimeError(
            f"expected one page query and at most one count, got {len(pages)} "
            f"and {len(counts)}: {[s.sql for s in statements]}"
        )
    return CapturedRequest(pages[0], counts[0] if counts else None, others, body)


async def capture_requests(
    database_url: str,
    secret_key: str,
    token: str,
    requests: Mapping[str, tuple[str, Mapping[str, str]]],
) -> dict[str, CapturedRequest]:
    """Send each GET request twice and return what the second one ran.

    requests maps a name to the path and query parameters of one request.
    """
    with tempfile.TemporaryDirectory(prefix="ringline-capture-") as var_dir:
        settings = Settings(
            database_url=database_url,
            secret_key=secret_key,
            rate_limit=0,
            log_level="warning",
            var_dir=Path(var_dir),
            recordings_dir=Path(var_dir) / "recordings",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            return await _send_all(app, token, requests)


async def _send_all(
    app: Any, token: str, requests: Mapping[str, tuple[str, Mapping[str, str]]]
) -> dict[str, CapturedRequest]:
    recorded: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        recorded.append(Statement(sql, tuple(params or ())))

    def record_raw(sql: str, arguments: list[Any]) -> None:
        recorded.append(Statement(sql, tuple(arguments)))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    # List and count queries go straight to the driver, past engine events.
    repository.raw_statement_observers.append(record_raw)
    transport = httpx.ASGITransport(app=app)
    headers = {"authorization": f"Bearer {token}"}
    captured = {}
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ringline.invalid"
        ) as client:
            for name, (path, params) in requests.items():
                # The first request may fill caches (such as a key cache), so
                # the second one shows what every later request sends.
                await client.get(path, params=params, headers=headers)
                recorded.clear()
                response = await client.get(path, params=params, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"request {name} failed with {response.status_code}: "
                        f"{response.text[:300]}"
                    )
                captured[name] = classify(list(recorded), response.content)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        repository.raw_statement_observers.remove(record_raw)
    return captured
