"""Database reads the call runner needs outside its status changes."""

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.agents.models import AgentVersion
from ringline.calls.models import Call
from ringline.calls.transitions import is_final


async def load_version(session: AsyncSession, call: Call) -> AgentVersion:
    """Load the agent version a call runs; versions are never deleted."""
    key = (call.agent_id, call.agent_version_number)
    version = await session.get(AgentVersion, key)
    assert version is not None, f"call {call.id} names a missing agent version"
    return version


_versions: dict[tuple[str, int], AgentVersion] = {}


async def load_for_run(
    sessionmaker: async_sessionmaker[AsyncSession], call_id: str
) -> tuple[AgentVersion, Call] | None:
    """Read a call and the agent version it runs.

    Published versions never change, so they are kept in memory once read.
    """
    async with sessionmaker() as session:
        call = await session.get(Call, call_id)
        if call is None:
            return None
        key = (call.agent_id, call.agent_version_number)
        version = _versions.get(key)
        if version is None:
            version = await load_version(session, call)
            session.expunge(version)
            _versions[key] = version
        session.expunge(call)
    return version, call


async def has_ended(
    sessionmaker: async_sessionmaker[AsyncSession], call_id: str
) -> bool:
    async with sessionmaker() as session:
        status = await session.scalar(select(Call.status).where(Call.id == call_id))
    return status is None or is_final(status)


def variables_for(call: Call, version: AgentVersion) -> list[Mapping[str, object]]:
    """Return the variable sources in order: metadata, version defaults, built-ins."""
    builtins = {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "agent_name": version.title,
        "caller_number": call.from_phone_number,
        "callee_number": call.to_phone_number,
    }
    return [call.call_metadata or {}, version.default_dynamic_variables or {}, builtins]
