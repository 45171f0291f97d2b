"""Writing calls as JSON Lines or CSV, streamed one keyset batch at a time."""

import csv
from collections.abc import Mapping
from typing import Any, TextIO

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls import repository
from ringline.calls.filters import parse_call_filters, raise_if_errors
from ringline.calls.serializers import call_detail_to_dict
from ringline.core.database import SessionReader
from ringline.workspaces.service import require_workspace

CSV_COLUMNS = (
    "id",
    "agent_id",
    "agent_version_number",
    "batch_call_id",
    "type",
    "call_direction",
    "from_phone_number",
    "to_phone_number",
    "status",
    "end_reason",
    "duration_seconds",
    "duration_ms",
    "metadata",
    "scheduled_at",
    "created_at",
    "updated_at",
    "initiated_at",
    "answered_at",
    "ended_at",
    "transcript",
)
BATCH_SIZE = 1000


def _csv_cells(call: dict[str, Any]) -> list[Any]:
    cells = []
    for column in CSV_COLUMNS:
        value = call.get(column)
        if column == "metadata":
            value = orjson.dumps(value).decode()
        cells.append("" if value is None else value)
    return cells


async def export_calls(
    session: AsyncSession,
    workspace_id: str,
    params: Mapping[str, str],
    output: TextIO,
    file_format: str,
) -> int:
    """Write every call matching the List Calls filters in params; return the count."""
    await require_workspace(session, workspace_id)
    errors: list[str] = []
    filters = parse_call_filters(params, errors)
    raise_if_errors(errors)

    writer = csv.writer(output) if file_format == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    written = 0
    async for row in repository.iterate(
        SessionReader(session), workspace_id, filters, BATCH_SIZE
    ):
        call = call_detail_to_dict(row)
        call.pop("recording_url")
        if writer is not None:
            writer.writerow(_csv_cells(call))
        else:
            output.write(orjson.dumps(call).decode() + "\n")
        written += 1
    return written
