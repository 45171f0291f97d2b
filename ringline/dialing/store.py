"""Database reads the call runner needs outside its status changes."""

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ringline.agents.models import AgentVersion
from ringline.calls.models import Call
from ringline.dialing.batching import BatchedLookup


async def load_version(session: AsyncSession, call: Call) -> AgentVersion:
    """Load the agent version a call runs; versions are never deleted."""
    key = (call.agent_id, call.agent_version_number)
    version = await session.get(AgentVersion, key)
    assert version is not None, f"call {call.id} names a missing agent version"
    return version


class RunReads:
    """The call runner's read of a call with its agent version. Lookups made at
    the same moment share one query."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        # Published versions never change, so they are kept once read.
        self._versions: dict[tuple[str, int], AgentVersion] = {}
        self._runs = BatchedLookup(self._fetch_runs)

    async def load_for_run(self, call_id: str) -> tuple[AgentVersion, Call] | None:
        """Read a call and the agent version it runs; None if it is gone."""
        return await self._runs.get(call_id)

    async def _fetch_runs(
        self, call_ids: list[str]
    ) -> dict[str, tuple[AgentVersion, Call]]:
        async with self._sessionmaker() as session:
            calls = list(
                await session.scalars(select(Call).where(Call.id.in_(call_ids)))
            )
            for call in calls:
                key = (call.agent_id, call.agent_version_number)
                if key not in self._versions:
                    version = await load_version(session, call)
                    session.expunge(version)
                    self._versions[key] = version
            session.expunge_all()
        return {
            call.id: (self._versions[(call.agent_id, call.agent_version_number)], call)
            for call in calls
        }


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
