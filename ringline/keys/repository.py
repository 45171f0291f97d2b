from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.keys.models import ApiKey


async def add_key(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


async def get_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def get_credentials(session: AsyncSession, key_id: str) -> Row[Any] | None:
    """Fetch what authentication needs, without loading an ORM object."""
    query = select(
        ApiKey.id,
        ApiKey.workspace_id,
        ApiKey.secret_hash,
        ApiKey.permissions,
        ApiKey.expires_at,
        ApiKey.revoked_at,
        ApiKey.last_used_at,
    ).where(ApiKey.id == key_id)
    return (await session.execute(query)).first()


async def list_keys(session: AsyncSession, workspace_id: str) -> list[ApiKey]:
    query = (
        select(ApiKey)
        .where(ApiKey.workspace_id == workspace_id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    return list(await session.scalars(query))


async def touch_key(session: AsyncSession, key_id: str, used_at: datetime) -> None:
    await session.execute(
        update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=used_at)
    )


async def notify_revocation(session: AsyncSession, channel: str, key_id: str) -> None:
    """Send NOTIFY on PostgreSQL, delivered when the transaction commits."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :key_id)"),
            {"channel": channel, "key_id": key_id},
        )
