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

from ringline.calls.enums import CallStatus
from ringline.calls.models import Call
from ringline.calls.transitions import bulk_move
from ringline.core.database import transaction
from ringline.core.time import utc_now

log = structlog.get_logger()

T = TypeVar("T")
Change = Callable[[AsyncSession, Call | None], Awaitable[Any]]
MAX_BATCH = 500


@dataclass
class _Pending:
    call_id: str
    change: Change
    result: asyncio.Future[Any]


@dataclass
class _Move:
    call_id: str
    expected: CallStatus
    target: CallStatus
    result: asyncio.Future[bool]


class CallWriter:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._moves: list[_Move] = []
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

    async def submit_move(
        self, call_id: str, expected: CallStatus, target: CallStatus
    ) -> bool:
        """Move a call from expected to a non-final target; False if it was not
        in expected. Moves waiting together run as one UPDATE per kind of move,
        which is what keeps a burst of a thousand answers cheap."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain_forever())
        result: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._moves.append(_Move(call_id, expected, target, result))
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
            while self._moves or self._pending:
                if self._moves:
                    moves, self._moves = self._moves, []
                    await self._apply_moves(moves)
                if self._pending:
                    batch, self._pending = (
                        self._pending[:MAX_BATCH],
                        self._pending[MAX_BATCH:],
                    )
                    await self._apply(batch)

    async def _apply_moves(self, moves: list[_Move]) -> None:
        groups: dict[tuple[CallStatus, CallStatus], list[_Move]] = {}
        for move in moves:
            groups.setdefault((move.expected, move.target), []).append(move)
        moved: set[tuple[str, CallStatus]] = set()
        try:
            async with transaction(self.sessionmaker) as session:
                for (expected, target), items in groups.items():
                    ids = [item.call_id for item in items]
                    done = await bulk_move(session, ids, expected, target, utc_now())
                    moved.update((call_id, target) for call_id in done)
        except Exception as error:
            log.exception("call_writer.moves_failed", size=len(moves))
            for move in moves:
                if not move.result.done():
                    move.result.set_exception(error)
            return
        for move in moves:
            if not move.result.done():
                move.result.set_result((move.call_id, move.target) in moved)

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
