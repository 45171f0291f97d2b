"""Every query the recordings routes make: where a call's recording is stored."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls.models import Call


@dataclass(frozen=True, slots=True)
class RecordingLocation:
    """A call's workspace and the store key of its recording, if it has one."""

    workspace_id: str
    recording_path: str | None


async def get_recording_location(
    session: AsyncSession, call_id: str, workspace_id: str | None = None
) -> RecordingLocation | None:
    """Read where a call's recording is; with workspace_id, only in that workspace."""
    statement = select(Call.workspace_id, Call.recording_path).where(Call.id == call_id)
    if workspace_id is not None:
        statement = statement.where(Call.workspace_id == workspace_id)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    return RecordingLocation(row.workspace_id, row.recording_path)
