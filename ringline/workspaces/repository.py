from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.workspaces.models import Workspace


async def add_workspace(session: AsyncSession, workspace: Workspace) -> None:
    session.add(workspace)
    await session.flush()


async def get_workspace(session: AsyncSession, workspace_id: str) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def count_workspaces(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Workspace)) or 0
