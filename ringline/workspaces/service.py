from sqlalchemy.ext.asyncio import AsyncSession

from ringline.core.errors import InvalidRequest, NotFound
from ringline.core.ids import new_id
from ringline.core.time import utc_now
from ringline.workspaces import repository
from ringline.workspaces.models import Workspace


async def create_workspace(session: AsyncSession, name: str) -> Workspace:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidRequest("workspace name must be 1 to 200 characters")

    workspace = Workspace(id=new_id("ws"), name=name, created_at=utc_now())
    await repository.add_workspace(session, workspace)
    return workspace


async def require_workspace(session: AsyncSession, workspace_id: str) -> Workspace:
    workspace = await repository.get_workspace(session, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


async def has_any_workspace(session: AsyncSession) -> bool:
    return await repository.count_workspaces(session) > 0
