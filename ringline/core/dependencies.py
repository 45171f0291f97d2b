"""Request dependencies shared by every resource: the session and the caller."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.bodies import unstorable_value
from ringline.core.database import Reader, transaction
from ringline.core.errors import InvalidRequest, PermissionDenied, RateLimited
from ringline.core.http import header
from ringline.core.middleware import EXTRA_HEADERS_KEY
from ringline.core.pagination import CursorCodec
from ringline.core.ratelimit import RateLimiter
from ringline.keys.service import Principal, authenticate, record_key_use

log = structlog.get_logger()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session whose transaction commits after the route succeeds and
    rolls back when it raises."""
    async with transaction(request.app.state.sessionmaker) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session in autocommit mode, for routes that only read.

    Each statement runs on its own, which saves the BEGIN and COMMIT round trips
    of a transaction. Under READ COMMITTED a transaction would not give the
    statements one snapshot anyway.
    """
    async with request.app.state.read_sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
ReadSession = Annotated[AsyncSession, Depends(get_read_session)]


# The getters below are coroutines because FastAPI runs plain functions in a
# thread pool, a thread hop per request for a one-line lookup.
async def get_cursor_codec(request: Request) -> CursorCodec:
    return request.app.state.cursors


async def get_reader(request: Request) -> Reader:
    return request.app.state.reader


Cursors = Annotated[CursorCodec, Depends(get_cursor_codec)]
Reads = Annotated[Reader, Depends(get_reader)]


def _apply_rate_limit(request: Request, principal: Principal) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.enabled:
        return
    decision = limiter.hit(principal.key_id)
    headers = decision.headers()
    request.scope[EXTRA_HEADERS_KEY].update(headers)
    if not decision.allowed:
        raise RateLimited(
            f"rate limit of {decision.limit} requests per "
            f"{limiter.window_seconds} seconds exceeded; retry after "
            f"{decision.reset_seconds} seconds"
        )


async def _record_use(request: Request, key_id: str) -> None:
    try:
        async with transaction(request.app.state.sessionmaker) as session:
            await record_key_use(session, key_id)
    except Exception as error:  # a missed last_used_at is logged, not raised
        log.warning("key.last_use_not_recorded", key_id=key_id, error=str(error))


def _schedule_use_record(request: Request, key_id: str) -> None:
    """Record the key's use after the response, off the request's path.

    On SQLite the write waits for the database lock, which a long import can
    hold for many seconds; a read request must not wait for it or fail on it.
    """
    tasks: set[asyncio.Task[None]] = request.app.state.background_tasks
    task = asyncio.create_task(_record_use(request, key_id))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def authorize(request: Request, permission: str) -> Principal:
    """Authenticate the request's key, apply the rate limit and check one
    permission. Routes call it directly where a dependency costs too much."""
    state = request.app.state
    principal = await authenticate(
        state.read_sessionmaker,
        header(request, b"authorization"),
        state.key_cache,
    )
    if principal.last_use_is_stale:
        _schedule_use_record(request, principal.key_id)
    _apply_rate_limit(request, principal)
    if permission not in principal.permissions:
        raise PermissionDenied(f"This API key lacks the {permission} permission")
    return principal


async def _check_body(request: Request) -> None:
    body = await request.body()
    # PostgreSQL text cannot hold NUL, and in JSON it can only arrive escaped.
    if b"\\u0000" in body:
        raise InvalidRequest(
            "strings in the body must not contain the NUL character (\\u0000)"
        )
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return  # field validation reports malformed JSON
    problem = unstorable_value(parsed)
    if problem is not None:
        raise InvalidRequest(problem)


def require(
    permission: str, writes: bool = False
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Build a dependency that authenticates the key and checks one permission.

    The key is read outside the route's transaction, and only when it is not
    cached. For routes that write, it also refuses a body holding NUL or a value
    that cannot be stored as strict JSON (see core.bodies).
    """

    async def for_reads(request: Request) -> Principal:
        return await authorize(request, permission)

    async def for_writes(request: Request) -> Principal:
        principal = await authorize(request, permission)
        await _check_body(request)
        return principal

    return for_writes if writes else for_reads
