"""Agents and their versions: a draft can change, a published version never does."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.agents import repository
from ringline.agents.models import Agent, AgentVersion
from ringline.agents.schemas import AgentCreate, AgentUpdate
from ringline.agents.serializers import agent_detail_to_dict, agent_to_dict
from ringline.calls.filters import parse_paging, raise_if_errors
from ringline.core.errors import Conflict, InvalidRequest, NotFound
from ringline.core.ids import is_valid_id, new_id
from ringline.core.pagination import (
    CursorCodec,
    PageRequest,
    PaginationError,
    Position,
    fingerprint,
    page_meta,
)
from ringline.core.time import utc_now
from ringline.workspaces.service import require_workspace

MAX_TITLE_LENGTH = 100
VERSION_DEFAULTS: dict[str, Any] = {
    "welcome_message": None,
    "prompt_text": None,
    "language_id": "en-US",
    "voice_id": None,
    "from_phone_number": None,
    "max_call_duration_sec": 600,
    "end_call_on_silence_sec": 15,
    "default_dynamic_variables": {},
    "post_call_analysis": [],
}
NOT_NULLABLE = (
    "title",
    "language_id",
    "max_call_duration_sec",
    "end_call_on_silence_sec",
    "default_dynamic_variables",
    "post_call_analysis",
)
AGENT_LIST_SORT = "agents:created_at:desc"


def _new_version(
    agent: Agent, number: int, fields: Mapping[str, Any], is_published: bool
) -> AgentVersion:
    now = utc_now()
    values = {**VERSION_DEFAULTS, "title": agent.title, **fields}
    return AgentVersion(
        agent_id=agent.id,
        version_number=number,
        is_published=is_published,
        published_at=now if is_published else None,
        created_at=now,
        **values,
    )


def _copy_fields(version: AgentVersion) -> dict[str, Any]:
    return {name: getattr(version, name) for name in ("title", *VERSION_DEFAULTS)}


async def create_agent(
    session: AsyncSession,
    workspace_id: str,
    title: str,
    publish: bool = False,
    fields: Mapping[str, Any] | None = None,
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
    first = _new_version(agent, 1, {**(fields or {}), "title": title}, publish)
    versions = [first]
    if publish:
        versions.append(_new_version(agent, 2, _copy_fields(first), False))
    await repository.add_agent(session, agent, versions)
    return agent


async def create_agent_from_request(
    session: AsyncSession, workspace_id: str, body: AgentCreate
) -> dict[str, Any]:
    fields = body.given_fields()
    _reject_nulls(fields)
    agent = await create_agent(session, workspace_id, body.title, fields=fields)
    return agent_detail_to_dict(
        agent, await repository.list_versions(session, agent.id)
    )


def _reject_nulls(fields: Mapping[str, Any]) -> None:
    nulls = [name for name in NOT_NULLABLE if name in fields and fields[name] is None]
    if nulls:
        raise InvalidRequest([f"{name} must not be null" for name in nulls])


def validate_agent_id(agent_id: str, name: str = "id") -> None:
    if not is_valid_id(agent_id):
        raise InvalidRequest(
            f"{name} must be at most 64 characters of letters, digits, '_' and '-' "
            f"(got {agent_id[:70]!r})"
        )


async def require_agent(
    session: AsyncSession, workspace_id: str, agent_id: str, for_update: bool = False
) -> Agent:
    validate_agent_id(agent_id)
    agent = await repository.get_agent(session, workspace_id, agent_id, for_update)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found")
    return agent


async def get_agent(
    session: AsyncSession, workspace_id: str, agent_id: str
) -> dict[str, Any]:
    agent = await require_agent(session, workspace_id, agent_id)
    return agent_detail_to_dict(
        agent, await repository.list_versions(session, agent.id)
    )


def _find_version(
    versions: list[AgentVersion], number: int, agent_id: str
) -> AgentVersion:
    for version in versions:
        if version.version_number == number:
            return version
    known = ", ".join(str(v.version_number) for v in versions)
    raise NotFound(f"agent {agent_id} has no version {number} (versions: {known})")


async def update_agent(
    session: AsyncSession, workspace_id: str, agent_id: str, body: AgentUpdate
) -> dict[str, Any]:
    """Edit a draft version and, with is_published, publish it and open the next."""
    agent = await require_agent(session, workspace_id, agent_id, for_update=True)
    versions = await repository.list_versions(session, agent.id)
    version = _find_version(versions, body.version_number, agent_id)
    if version.is_published:
        drafts = [v.version_number for v in versions if not v.is_published]
        raise Conflict(
            f"version {version.version_number} of agent {agent_id} is published and "
            f"cannot change; edit the draft version {drafts[-1] if drafts else 'none'}"
        )

    fields = body.given_fields()
    _reject_nulls(fields)
    for name, value in fields.items():
        setattr(version, name, value)
    now = utc_now()
    agent.title = version.title
    agent.updated_at = now
    if body.is_published:
        await _publish(session, agent, version, now)
    await session.flush()
    return agent_detail_to_dict(
        agent, await repository.list_versions(session, agent.id)
    )


async def _publish(
    session: AsyncSession, agent: Agent, version: AgentVersion, now: Any
) -> None:
    version.is_published = True
    version.published_at = now
    draft = _new_version(
        agent, version.version_number + 1, _copy_fields(version), False
    )
    try:
        async with session.begin_nested():
            await repository.add_version(session, draft)
    except IntegrityError:
        raise Conflict(
            f"version {version.version_number} of agent {agent.id} was published "
            "by another request at the same time; fetch the agent and retry"
        ) from None


async def delete_agent(session: AsyncSession, workspace_id: str, agent_id: str) -> None:
    """Delete an agent: its calls stay, and new calls to it are not found."""
    agent = await require_agent(session, workspace_id, agent_id, for_update=True)
    agent.deleted_at = utc_now()
    await session.flush()


async def list_agents(
    session: AsyncSession,
    workspace_id: str,
    params: Mapping[str, str],
    cursors: CursorCodec,
) -> dict[str, Any]:
    errors: list[str] = []
    page, limit, include_total = parse_paging(params, errors)
    raise_if_errors(errors)
    issued_for = fingerprint([workspace_id, AGENT_LIST_SORT])
    after = None
    if params.get("cursor") is not None:
        try:
            after, page = cursors.decode(params["cursor"], issued_for)
        except PaginationError as error:
            raise InvalidRequest(str(error)) from None
    request = PageRequest(page, limit, include_total, after)

    agents = await repository.list_agents(
        session, workspace_id, limit + 1, request.offset, after
    )
    has_next = len(agents) > limit
    agents = agents[:limit]
    versions = await repository.list_versions_of(session, [a.id for a in agents])
    total = (
        await repository.count_agents(session, workspace_id) if include_total else None
    )
    next_cursor = None
    if has_next:
        position = Position(agents[-1].created_at, agents[-1].id)
        next_cursor = cursors.encode(position, page + 1, issued_for)
    return {
        "data": [
            agent_to_dict(agent, [v for v in versions if v.agent_id == agent.id])
            for agent in agents
        ],
        "meta": page_meta(request, total, next_cursor),
    }


async def published_versions_by_agent(
    session: AsyncSession, workspace_id: str
) -> dict[str, list[int]]:
    return await repository.published_versions_by_agent(session, workspace_id)
