"""Database reads and locks the call runner needs."""

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.agents.models import AgentVersion
from ringline.calls.models import Call
from ringline.calls.transitions import is_final


async def lock_call(session: AsyncSession, call_id: str) -> Call | None:
    return await session.scalar(
        select(Call).where(Call.id == call_id).with_for_update()
    )


async def load_call(
    session: AsyncSession, call_id: str
) -> tuple[Call | None, AgentVersion | None]:
    """Lock the call and load the agent version it runs."""
    call = await lock_call(session, call_id)
    if call is None:
        return None, None
    version = await session.get(
        AgentVersion, (call.agent_id, call.agent_version_number)
    )
    return call, version


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
