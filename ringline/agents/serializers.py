from typing import Any

from ringline.agents.models import Agent, AgentVersion
from ringline.core.time import format_timestamp

VERSION_FIELDS = (
    "version_number",
    "is_published",
    "title",
    "welcome_message",
    "prompt_text",
    "language_id",
    "voice_id",
    "from_phone_number",
    "max_call_duration_sec",
    "end_call_on_silence_sec",
    "default_dynamic_variables",
    "post_call_analysis",
)


def version_to_dict(version: AgentVersion) -> dict[str, Any]:
    data = {name: getattr(version, name) for name in VERSION_FIELDS}
    data["published_at"] = format_timestamp(version.published_at)
    data["created_at"] = format_timestamp(version.created_at)
    return data


def agent_to_dict(agent: Agent, versions: list[AgentVersion]) -> dict[str, Any]:
    published = [v.version_number for v in versions if v.is_published]
    drafts = [v.version_number for v in versions if not v.is_published]
    return {
        "id": agent.id,
        "title": agent.title,
        "latest_published_version": published[-1] if published else None,
        "draft_version": drafts[-1] if drafts else None,
        "created_at": format_timestamp(agent.created_at),
        "updated_at": format_timestamp(agent.updated_at),
    }


def agent_detail_to_dict(agent: Agent, versions: list[AgentVersion]) -> dict[str, Any]:
    data = agent_to_dict(agent, versions)
    data["versions"] = [version_to_dict(version) for version in versions]
    return data
