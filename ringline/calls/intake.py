"""Shared transactions for accepted creates.

A create writes three rows: the call, its call_created event and its first dial
job, plus its Idempotency-Key with the response when it sent one. Written one by
one, each create would hold the SQLite write lock (or a PostgreSQL write slot)
for a transaction of several statements, and creates would queue behind one
another. Here the rows of all the creates waiting at one moment are written in
one transaction, with one INSERT per table. Each request returns once that
transaction has committed.
"""

import asyncio
import contextvars
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.calls import idempotency
from ringline.calls.models import Call, CallEvent
from ringline.core.database import transaction
from ringline.jobs.models import Job

log = structlog.get_logger()

MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class NewCall:
    """The rows of one accepted create, as column values."""

    call: dict[str, Any]
    event: dict[str, Any]
    job: dict[str, Any]
    # The Idempotency-Key with the response to replay, when the request sent one.
    idempotency_key: dict[str, Any] | None = None


@dataclass(slots=True)
class _Waiting:
    rows: NewCall
    stored: asyncio.Future[None]


class CallIntake:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._waiting: list[_Waiting] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def store(self, rows: NewCall) -> None:
        """Write the rows of one create; return once they are committed."""
        if self._task is None or self._task.done():
            # The task starts with an empty context, so its log lines do not
            # carry the request id of whichever request started it.
            self._task = asyncio.create_task(
                self._drain(), context=contextvars.Context()
            )
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(rows, stored))
        self._wake.set()
        await stored

    async def close(self) -> None:
        """Write what is waiting, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _drain(self) -> None:
        while True:
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                self._waiting = self._waiting[MAX_BATCH:]
                await self._write(batch)
            if self._closing:
                return
            await self._wake.wait()
            self._wake.clear()

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            await self._insert([item.rows for item in batch])
        except Exception as error:
            if len(batch) == 1:
                # The waiting request gets the error and handles or logs it. A
                # repeated Idempotency-Key, for example, gets the stored response.
                _settle(batch[0], error)
                return
            # One bad create failed the shared transaction, so each is written
            # on its own and only that one fails.
            log.info(
                "call_intake.batch_split",
                size=len(batch),
                error=type(error).__name__,
            )
            for item in batch:
                await self._write([item])
            return
        for item in batch:
            _settle(item, None)

    async def _insert(self, batch: list[NewCall]) -> None:
        async with transaction(self.sessionmaker) as session:
            await session.execute(insert(Call), [rows.call for rows in batch])
            await session.execute(insert(CallEvent), [rows.event for rows in batch])
            await session.execute(insert(Job), [rows.job for rows in batch])
            keys = [rows.idempotency_key for rows in batch if rows.idempotency_key]
            if keys:
                await idempotency.store_keys(session, keys)


def _settle(item: _Waiting, error: Exception | None) -> None:
    if item.stored.done():  # the request was cancelled while it waited
        return
    if error is None:
        item.stored.set_result(None)
    else:
        item.stored.set_exception(error)
