from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.keys.models import ApiKey


async def add_key(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


async def get_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


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
