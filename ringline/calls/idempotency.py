"""Idempotency-Key handling for creates: replay the first response, reject a reuse.

A key is stored with its response in the transaction that stores the call. Of
two concurrent requests with one key, the second fails on the primary key and
then replays the first one's response or gets a 409 conflict.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls.models import IdempotencyKey
from ringline.core.database import Reader
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


def parse_key(header: str) -> str:
    """Return the key of an Idempotency-Key header, decoded as UTF-8.

    The ASGI server decodes header values as Latin-1, one character per byte,
    so a key of 200 'é' would otherwise count as 400 characters.
    """
    try:
        key = header.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise InvalidRequest("Idempotency-Key must be valid UTF-8") from None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters "
            f"(got {len(key)} characters)"
        )
    return key


FIND_STATEMENT = select(
    IdempotencyKey.request_hash,
    IdempotencyKey.response_status,
    IdempotencyKey.response_body,
    IdempotencyKey.created_at,
).where(
    IdempotencyKey.workspace_id == bindparam("workspace_id"),
    IdempotencyKey.key == bindparam("key"),
)
_compiled: dict[str, tuple[str, list[str]]] = {}


async def find_replay(
    reader: Reader, workspace_id: str, key: str, fingerprint: str
) -> Replay | None:
    """Return the stored response to replay, or None when the key is unused or
    expired. Raises Conflict when the key was used with another body."""
    rows = await _run_find(reader, workspace_id, key)
    if not rows:
        return None
    stored_hash, status_code, body, created_at = rows[0]
    if isinstance(created_at, str):  # SQLite stores timestamps as text
        created_at = datetime.fromisoformat(created_at)
    if created_at < utc_now() - KEY_LIFETIME:
        return None
    if stored_hash != fingerprint:
        raise Conflict(
            "Idempotency-Key was already used with a different request body; "
            "use a new key for a new request"
        )
    return Replay(status_code, bytes(body))


async def _run_find(reader: Reader, workspace_id: str, key: str) -> list[Any]:
    compiled = _compiled.get(reader.dialect.name)
    if compiled is None:
        statement = FIND_STATEMENT.compile(dialect=reader.dialect)
        compiled = (str(statement), list(statement.positiontup or []))
        _compiled[reader.dialect.name] = compiled
    sql, names = compiled
    parameters = {"workspace_id": workspace_id, "key": key}
    return await reader.fetch(sql, [parameters[name] for name in names])


def key_row(
    workspace_id: str, key: str, fingerprint: str, status_code: int, body: bytes
) -> dict[str, Any]:
    """Return the column values that store a key with its response."""
    return {
        "workspace_id": workspace_id,
        "key": key,
        "request_hash": fingerprint,
        "response_status": status_code,
        "response_body": body,
        "created_at": utc_now(),
    }


_EXPIRED = IdempotencyKey.__table__
EXPIRED_DELETE = _EXPIRED.delete().where(
    _EXPIRED.c.workspace_id == bindparam("expired_workspace_id"),
    _EXPIRED.c.key == bindparam("expired_key"),
    _EXPIRED.c.created_at < bindparam("cutoff"),
)


async def store_keys(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert keys with their responses, replacing expired uses of the same keys.

    Raises IntegrityError when a key is still in use.
    """
    cutoff = utc_now() - KEY_LIFETIME
    expired = [
        {
            "expired_workspace_id": row["workspace_id"],
            "expired_key": row["key"],
            "cutoff": cutoff,
        }
        for row in rows
    ]
    await session.execute(EXPIRED_DELETE, expired)
    await session.execute(insert(IdempotencyKey), rows)
