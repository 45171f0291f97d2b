"""Idempotency-Key handling for creates: replay the first answer, reject a reuse.

A key is reserved in a savepoint before the work, so of two concurrent requests
with one key the second waits on the unique key and then replays or conflicts.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls.models import IdempotencyKey
from ringline.core.errors import Conflict, InvalidRequest
from ringline.core.time import utc_now

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    body: bytes


def request_hash(body: object) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def validate_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters "
            f"(got {len(key)} characters)"
        )


async def reserve(
    session: AsyncSession, workspace_id: str, key: str, fingerprint: str
) -> Replay | None:
    """Reserve the key for this request, or return the stored answer to replay.

    Raises Conflict when the key was used with another body.
    """
    validate_key(key)
    now = utc_now()
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.workspace_id == workspace_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < now - KEY_LIFETIME,
        )
    )
    try:
        async with session.begin_nested():
            session.add(
                IdempotencyKey(
                    workspace_id=workspace_id,
                    key=key,
                    request_hash=fingerprint,
                    created_at=now,
                )
            )
    except IntegrityError:
        return await _stored_answer(session, workspace_id, key, fingerprint)
    return None


async def _stored_answer(
    session: AsyncSession, workspace_id: str, key: str, fingerprint: str
) -> Replay:
    stored = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.workspace_id == workspace_id, IdempotencyKey.key == key
        )
    )
    if stored is None or stored.request_hash != fingerprint:
        raise Conflict(
            "Idempotency-Key was already used with a different request body; "
            "use a new key for a new request"
        )
    if stored.response_body is None or stored.response_status is None:
        raise Conflict("a request with this Idempotency-Key is still in progress")
    return Replay(stored.response_status, stored.response_body)


async def store_answer(
    session: AsyncSession, workspace_id: str, key: str, status_code: int, body: bytes
) -> None:
    stored = await session.get(IdempotencyKey, (workspace_id, key))
    assert stored is not None, "the key is reserved before the work"
    stored.response_status = status_code
    stored.response_body = body
    await session.flush()
