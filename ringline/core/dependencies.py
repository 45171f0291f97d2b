"""Request dependencies shared by every resource: the session and the caller."""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.database import transaction
from ringline.core.errors import PermissionDenied, RateLimited
from ringline.core.middleware import EXTRA_HEADERS_KEY
from ringline.core.pagination import CursorCodec
from ringline.core.ratelimit import RateLimiter
from ringline.keys.service import Principal, authenticate


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session whose transaction commits after the route succeeds and
    rolls back when it raises."""
    async with transaction(request.app.state.sessionmaker) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session in autocommit mode, for routes that only read.

    Each statement runs on its own, which saves the BEGIN and COMMIT round trips
    of a transaction; under READ COMMITTED a transaction would not give the
    statements one snapshot anyway.
    """
    async with request.app.state.read_sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
ReadSession = Annotated[AsyncSession, Depends(get_read_session)]


def get_cursor_codec(request: Request) -> CursorCodec:
    return request.app.state.cursors


Cursors = Annotated[CursorCodec, Depends(get_cursor_codec)]


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


async def _check(request: Request, session: AsyncSession, permission: str) -> Principal:
    principal = await authenticate(session, request.headers.get("authorization"))
    _apply_rate_limit(request, principal)
    if permission not in principal.permissions:
        raise PermissionDenied(f"This API key lacks the {permission} permission")
    return principal


def require(
    permission: str, writes: bool = False
) -> Callable[[Request, AsyncSession], Coroutine[Any, Any, Principal]]:
    """Build a dependency that authenticates the key and checks one permission.

    It shares the request's session: the transactional one for routes that
    write, the autocommit one for routes that only read.
    """

    async def for_reads(request: Request, session: ReadSession) -> Principal:
        return await _check(request, session, permission)

    async def for_writes(request: Request, session: Session) -> Principal:
        return await _check(request, session, permission)

    return for_writes if writes else for_reads
