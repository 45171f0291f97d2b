"""Shared transactions for the status changes of many running calls.

A worker running a thousand calls produces bursts of small writes: every call
answered after the same ring time wants its own transaction at the same moment.
Instead, each change is queued here and applied with the others waiting at that
moment, in one transaction that locks all their calls at once (in id order, so
two workers never deadlock).
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.calls.models import Call
from ringline.core.database import transaction

log = structlog.get_logger()

T = TypeVar("T")
Change = Callable[[AsyncSession, Call | None], Awaitable[Any]]
MAX_BATCH = 500


@dataclass
class _Pending:
    call_id: str
    change: Change
    result: asyncio.Future[Any]


class CallWriter:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, call_id: str, change: Change) -> Any:
        """Apply change to the locked call (None if it does not exist) and return
        what change returns, once its shared transaction has committed."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain_forever())
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(call_id, change, result))
        self._wake.set()
        return await result

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _drain_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = (
                    self._pending[:MAX_BATCH],
                    self._pending[MAX_BATCH:],
                )
                await self._apply(batch)

    async def _apply(self, batch: list[_Pending]) -> None:
        try:
            results = await self._apply_together(batch)
        except Exception:
            if len(batch) == 1:
                self._fail(batch[0])
                return
            # One change failed the shared transaction: apply each on its own so
            # that only the failing call is affected.
            log.warning("call_writer.batch_failed", size=len(batch))
            for item in batch:
                await self._apply([item])
            return
        for item, result in zip(batch, results, strict=True):
            if not item.result.done():
                item.result.set_result(result)

    async def _apply_together(self, batch: list[_Pending]) -> list[Any]:
        results: list[Any] = []
        async with transaction(self.sessionmaker) as session:
            calls = await self._lock(session, [item.call_id for item in batch])
            for item in batch:
                results.append(await item.change(session, calls.get(item.call_id)))
        return results

    def _fail(self, item: _Pending) -> None:
        log.exception("call_writer.change_failed", call_id=item.call_id)
        if not item.result.done():
            item.result.set_exception(RuntimeError(f"change of {item.call_id} failed"))

    async def _lock(
        self, session: AsyncSession, call_ids: list[str]
    ) -> dict[str, Call]:
        query = (
            select(Call)
            .where(Call.id.in_(sorted(set(call_ids))))
            .order_by(Call.id)
            .with_for_update()
        )
        return {call.id: call for call in await session.scalars(query)}
