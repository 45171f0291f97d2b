from collections.abc import Iterable, Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.agents.models import Agent, AgentVersion
from ringline.core.pagination import Position


async def add_agent(
    session: AsyncSession, agent: Agent, versions: Iterable[AgentVersion]
) -> None:
    session.add(agent)
    await session.flush()
    session.add_all(list(versions))
    await session.flush()


async def add_version(session: AsyncSession, version: AgentVersion) -> None:
    session.add(version)
    await session.flush()


async def get_agent(
    session: AsyncSession, workspace_id: str, agent_id: str, for_update: bool = False
) -> Agent | None:
    """Fetch a live (not deleted) agent of the workspace."""
    query = select(Agent).where(
        Agent.id == agent_id,
        Agent.workspace_id == workspace_id,
        Agent.deleted_at.is_(None),
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_versions(session: AsyncSession, agent_id: str) -> list[AgentVersion]:
    query = (
        select(AgentVersion)
        .where(AgentVersion.agent_id == agent_id)
        .order_by(AgentVersion.version_number)
    )
    return list(await session.scalars(query))


async def list_versions_of(
    session: AsyncSession, agent_ids: Sequence[str]
) -> list[AgentVersion]:
    query = (
        select(AgentVersion)
        .where(AgentVersion.agent_id.in_(agent_ids))
        .order_by(AgentVersion.agent_id, AgentVersion.version_number)
    )
    return list(await session.scalars(query))


def _live_in(workspace_id: str) -> list:
    return [Agent.workspace_id == workspace_id, Agent.deleted_at.is_(None)]


async def list_agents(
    session: AsyncSession,
    workspace_id: str,
    limit: int,
    offset: int,
    after: Position | None,
) -> list[Agent]:
    conditions = _live_in(workspace_id)
    if after is not None:
        conditions.append(
            and_(
                Agent.created_at <= after.created_at,
                or_(Agent.created_at < after.created_at, Agent.id < after.id),
            )
        )
    query = (
        select(Agent)
        .where(*conditions)
        .order_by(Agent.created_at.desc(), Agent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(await session.scalars(query))


async def count_agents(session: AsyncSession, workspace_id: str) -> int:
    query = select(func.count()).select_from(Agent).where(*_live_in(workspace_id))
    return await session.scalar(query) or 0


async def published_versions_by_agent(
    session: AsyncSession, workspace_id: str
) -> dict[str, list[int]]:
    """Map every agent of the workspace, deleted ones included, to its published
    version numbers in ascending order."""
    query = (
        select(Agent.id, AgentVersion.version_number, AgentVersion.is_published)
        .outerjoin(AgentVersion, AgentVersion.agent_id == Agent.id)
        .where(Agent.workspace_id == workspace_id)
        .order_by(Agent.id, AgentVersion.version_number)
    )
    versions: dict[str, list[int]] = {}
    for agent_id, number, is_published in await session.execute(query):
        published = versions.setdefault(agent_id, [])
        if is_published:
            published.append(number)
    return versions
