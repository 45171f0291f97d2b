from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.agents.models import Agent, AgentVersion


async def add_agent(
    session: AsyncSession, agent: Agent, versions: Iterable[AgentVersion]
) -> None:
    session.add(agent)
    await session.flush()
    session.add_all(list(versions))
    await session.flush()


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
