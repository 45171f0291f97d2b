from sqlalchemy.ext.asyncio import AsyncSession

from ringline.agents import repository
from ringline.agents.models import Agent, AgentVersion
from ringline.core.errors import InvalidRequest
from ringline.core.ids import new_id
from ringline.core.time import utc_now
from ringline.workspaces.service import require_workspace

MAX_TITLE_LENGTH = 100


def _new_version(agent: Agent, number: int, is_published: bool) -> AgentVersion:
    now = utc_now()
    return AgentVersion(
        agent_id=agent.id,
        version_number=number,
        is_published=is_published,
        published_at=now if is_published else None,
        title=agent.title,
        language_id="en-US",
        max_call_duration_sec=600,
        end_call_on_silence_sec=15,
        default_dynamic_variables={},
        post_call_analysis=[],
        created_at=now,
    )


async def create_agent(
    session: AsyncSession, workspace_id: str, title: str, publish: bool = False
) -> Agent:
    """Create an agent with version 1 as a draft.

    With publish, version 1 is published at once and version 2 opens as the draft,
    as publishing always does.
    """
    await require_workspace(session, workspace_id)
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE_LENGTH:
        raise InvalidRequest(
            f"title must be 1 to {MAX_TITLE_LENGTH} characters (got {len(title)})"
        )

    now = utc_now()
    agent = Agent(
        id=new_id("agent"),
        workspace_id=workspace_id,
        title=title,
        created_at=now,
        updated_at=now,
    )
    versions = [_new_version(agent, 1, is_published=publish)]
    if publish:
        versions.append(_new_version(agent, 2, is_published=False))
    await repository.add_agent(session, agent, versions)
    return agent


async def published_versions_by_agent(
    session: AsyncSession, workspace_id: str
) -> dict[str, list[int]]:
    return await repository.published_versions_by_agent(session, workspace_id)
