"""Loading call history from JSON Lines or CSV.

Every row is validated; the valid rows are inserted in one transaction and each
rejected row is reported with its number and the reasons.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.agents.service import published_versions_by_agent
from ringline.calls import repository
from ringline.calls.enums import (
    AnalysisStatus,
    CallDirection,
    CallStatus,
    CallType,
    EndReason,
    Sentiment,
)
from ringline.core.ids import is_generated_id, is_valid_id, new_id
from ringline.core.phones import PhoneNumberError, normalize_phone_number
from ringline.core.time import utc_now
from ringline.core.timestamps import TimestampError, parse_timestamp
from ringline.jobs import queue
from ringline.workspaces.service import require_workspace

FIELD_ALIASES = {
    "to_number": "to_phone_number",
    "phone_number": "to_phone_number",
    "from_number": "from_phone_number",
}
# The timeline moment recorded for each timestamp an imported call carries: the
# moments that placing the call in Ringline would have recorded.
TIMELINE_MOMENTS = (
    ("created_at", "call_created"),
    ("initiated_at", "call_initiated"),
    ("answered_at", "call_answered"),
    ("ended_at", "call_ended"),
)
REQUIRED_FIELDS = ("agent_id", "from_phone_number", "to_phone_number", "status")
TIMESTAMP_FIELDS = (
    "scheduled_at",
    "created_at",
    "updated_at",
    "initiated_at",
    "answered_at",
    "ended_at",
)
MAX_METADATA_KEYS = 50
# Whole numbers have at most 18 digits, so that a duration still fits a 64-bit
# integer after rounding to seconds, and sorts before calls without one.
MAX_INT = 10**18 - 1


# CSV's default 128 KiB per field is too small for long transcripts.
csv.field_size_limit(16 * 1024 * 1024)
MAX_METADATA_BYTES = 16 * 1024
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


class ImportFileError(Exception):
    """The file as a whole cannot be read, so nothing is loaded."""


@dataclass
class ImportReport:
    loaded: int = 0
    rejected: list[tuple[int, list[str]]] = field(default_factory=list)


def _canonical(record: dict[str, Any]) -> dict[str, Any] | str:
    """Rename aliases to their field.

    Two spellings of one field with different values are an error, returned as
    its reason.
    """
    canonical: dict[str, Any] = {}
    for key, value in record.items():
        name = FIELD_ALIASES.get(key.strip(), key.strip())
        earlier = canonical.get(name)
        if value in (None, ""):
            canonical.setdefault(name, value)
        elif earlier in (None, "") or earlier == value:
            canonical[name] = value
        else:
            return f"{key} and {name} give different values; give only one"
    return canonical


def _read_jsonl(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield number, f"not valid JSON ({error.msg})"
            continue
        if not isinstance(record, dict):
            yield number, "a line must be a JSON object"
            continue
        yield number, _canonical(record)


def _read_csv(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        columns = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        raise ImportFileError(f"the CSV header cannot be read: {error}") from None
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise ImportFileError(f"the CSV header repeats column(s) {', '.join(repeated)}")
    header = [FIELD_ALIASES.get(name, name) for name in columns]
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise ImportFileError(
            f"the CSV header lacks required column(s) {', '.join(missing)}; "
            f"the first line must name the columns, e.g. {','.join(REQUIRED_FIELDS)}"
        )
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield number, f"the row cannot be read as CSV: {error}"
            continue
        if None in record:
            yield number, "the row has more cells than the header has columns"
            continue
        cells = {key: (value if value != "" else None) for key, value in record.items()}
        yield number, _canonical(cells)


def read_records(
    text: str, filename: str = ""
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield (row number, record or the reason it cannot be read) for each row.

    JSON Lines is recognised by its file suffix (.jsonl, .ndjson, .json) or, for
    other names, by a first character `{`; anything else is CSV with a header
    line. Row numbers count data rows from 1, without the CSV header.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise ImportFileError("the file is empty")
    if filename.lower().endswith(JSONL_SUFFIXES) or stripped.startswith("{"):
        return _read_jsonl(stripped)
    return _read_csv(stripped)


@dataclass
class RowValidator:
    workspace_id: str
    published_versions: dict[str, list[int]]
    seen_ids: set[str] = field(default_factory=set)

    def validate(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        errors: list[str] = []
        row: dict[str, Any] = {"workspace_id": self.workspace_id}
        for name in REQUIRED_FIELDS:
            if record.get(name) in (None, ""):
                errors.append(f"{name} is required")

        self._id(record, row, errors)
        self._agent(record, row, errors)
        self._phones(record, row, errors)
        self._choices(record, row, errors)
        self._numbers(record, row, errors)
        self._timestamps(record, row, errors)
        self._metadata(record, row, errors)
        self._texts(record, row, errors)
        self._analysis(record, row, errors)
        if _contains_nul(record):
            errors.append("text must not contain the NUL character (\\u0000)")
        return row, errors

    def _texts(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        transcript = record.get("transcript")
        if transcript is not None and not isinstance(transcript, str):
            errors.append("transcript must be text")
        row["transcript"] = transcript or None
        batch = record.get("batch_call_id")
        if batch not in (None, "") and (
            not isinstance(batch, str) or not is_valid_id(batch)
        ):
            errors.append(
                "batch_call_id must be an id of letters, digits, '_' and '-', at most "
                f"64 characters (got {str(batch)[:70]!r})"
            )
        row["batch_call_id"] = batch or None

    def _id(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        call_id = record.get("id") or record.get("call_id")
        if call_id is None:
            row["id"] = new_id("call")
            return
        if not isinstance(call_id, str) or not is_generated_id(call_id, "call"):
            errors.append(
                "id must be call_ followed by 16 to 58 characters of 0-9 and a-z "
                f"(got {str(call_id)[:70]!r})"
            )
            return
        if call_id in self.seen_ids:
            errors.append(f"id {call_id} appears twice in the file")
        self.seen_ids.add(call_id)
        row["id"] = call_id

    def _agent(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        agent_id = record.get("agent_id")
        if agent_id in (None, ""):
            return
        published = self.published_versions.get(str(agent_id))
        if published is None:
            errors.append(
                f"agent_id {str(agent_id)[:70]!r} is not an agent of this workspace"
            )
            return
        row["agent_id"] = agent_id

        version = record.get("agent_version_number")
        if version in (None, ""):
            if not published:
                errors.append(
                    f"agent {agent_id} has no published version; publish one with "
                    "`ringline agents publish` or PATCH /v1/agents/{id}"
                )
                return
            row["agent_version_number"] = published[-1]
            return
        number = _as_int(version)
        if number is None or number not in published:
            errors.append(
                f"agent_version_number {version!r} is not a published version of "
                f"agent {agent_id} (published: {published or 'none'})"
            )
            return
        row["agent_version_number"] = number

    def _phones(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        for name in ("from_phone_number", "to_phone_number"):
            value = record.get(name)
            if value in (None, ""):
                continue
            try:
                row[name] = normalize_phone_number(name, str(value))
            except PhoneNumberError as error:
                errors.append(str(error))

    def _choices(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        for name, enum, default in (
            ("status", CallStatus, None),
            ("end_reason", EndReason, None),
            ("type", CallType, CallType.PHONE),
            ("call_direction", CallDirection, CallDirection.OUTBOUND),
        ):
            value = record.get(name)
            if value in (None, ""):
                row[name] = default
                continue
            accepted = [member.value for member in enum]
            text = str(value).strip().lower()
            if text not in accepted:
                errors.append(
                    f"{name} has unknown value {str(value)[:40]!r}; accepted values: "
                    f"{', '.join(accepted)}"
                )
            row[name] = text
        status, end_reason = row.get("status"), row.get("end_reason")
        if end_reason and status in (CallStatus.CANCELLED, *_active_statuses()):
            errors.append(f"end_reason must be empty for a call with status {status}")

    def _numbers(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        duration_ms = record.get("duration_ms")
        seconds = record.get("duration_seconds")
        row["duration_ms"] = None
        if duration_ms not in (None, ""):
            row["duration_ms"] = _as_int(duration_ms)
            if row["duration_ms"] is None or row["duration_ms"] < 0:
                errors.append(
                    f"duration_ms must be a whole number from 0 to {MAX_INT} "
                    f"(got {duration_ms!r})"
                )
        elif seconds not in (None, ""):
            parsed = _as_int(seconds)
            if parsed is None or not 0 <= parsed <= MAX_INT // 1000:
                errors.append(
                    f"duration_seconds must be a whole number from 0 to "
                    f"{MAX_INT // 1000} (got {seconds!r})"
                )
            else:
                row["duration_ms"] = parsed * 1000

    def _timestamps(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        for name in TIMESTAMP_FIELDS:
            value = record.get(name)
            row[name] = None
            if value in (None, ""):
                continue
            try:
                row[name] = parse_timestamp(name, str(value))
            except TimestampError as error:
                errors.append(str(error))
        if row["created_at"] is None and record.get("created_at") in (None, ""):
            row["created_at"] = utc_now()
        created = row["created_at"]
        for name in ("updated_at", "initiated_at", "answered_at", "ended_at"):
            moment = row[name]
            if created is not None and moment is not None and moment < created:
                errors.append(f"{name} must not be earlier than created_at")
        row["updated_at"] = row["updated_at"] or _latest(row) or created

    def _metadata(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        value = record.get("metadata")
        if isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                errors.append("metadata must be a JSON object")
                return
        if value is None:
            value = {}
        if not isinstance(value, dict):
            errors.append("metadata must be a JSON object")
            return
        if len(value) > MAX_METADATA_KEYS:
            errors.append(
                f"metadata has {len(value)} keys; at most {MAX_METADATA_KEYS}"
            )
        if any(not key.strip() for key in value):
            errors.append("metadata keys must not be empty")
        size = len(orjson.dumps(value))
        if size > MAX_METADATA_BYTES:
            errors.append(
                f"metadata must be at most {MAX_METADATA_BYTES} bytes encoded "
                f"(got {size})"
            )
        if any(isinstance(item, dict | list) for item in value.values()):
            errors.append("metadata values must be strings, numbers, booleans or null")
        row["call_metadata"] = value

    def _analysis(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> None:
        sentiment = record.get("sentiment") or None
        if sentiment is not None and sentiment not in set(Sentiment):
            errors.append(
                f"sentiment must be one of {', '.join(Sentiment)} (got {sentiment!r})"
            )
        summary = record.get("summary") or None
        if summary is not None and not isinstance(summary, str):
            errors.append("summary must be text")
        analysis = record.get("analysis") or None
        if isinstance(analysis, str):
            try:
                analysis = orjson.loads(analysis)
            except orjson.JSONDecodeError:
                analysis = []
        if analysis is not None and not isinstance(analysis, dict):
            errors.append("analysis must be a JSON object of field values")
        row.update(sentiment=sentiment, summary=summary, analysis=analysis)
        row["analysis_status"] = self._analysis_status(record, row, errors)

    def _analysis_status(
        self, record: dict[str, Any], row: dict[str, Any], errors: list[str]
    ) -> str:
        stated = record.get("analysis_status") or None
        if stated is not None:
            if stated not in set(AnalysisStatus):
                errors.append(
                    f"analysis_status must be one of {', '.join(AnalysisStatus)} "
                    f"(got {stated!r})"
                )
            return str(stated)
        if row.get("sentiment") is not None or row.get("analysis") is not None:
            return AnalysisStatus.COMPLETED
        if _connected(row) or row.get("status") in _active_statuses():
            return AnalysisStatus.PENDING
        return AnalysisStatus.NOT_APPLICABLE


def _connected(row: dict[str, Any]) -> bool:
    """Return whether an imported call was picked up: it has answered_at, or its
    status is completed, so it connected and then ended."""
    return (
        row.get("answered_at") is not None or row.get("status") == CallStatus.COMPLETED
    )


def _active_statuses() -> tuple[CallStatus, ...]:
    return (
        CallStatus.CREATED,
        CallStatus.INITIATED,
        CallStatus.SENT,
        CallStatus.RECEIVED,
    )


def _latest(row: dict[str, Any]) -> datetime | None:
    moments = [
        row[name] for name in ("initiated_at", "answered_at", "ended_at") if row[name]
    ]
    return max(moments) if moments else None


def _as_int(value: Any) -> int | None:
    """Return value as an int of at most 18 digits, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -MAX_INT <= value <= MAX_INT else None
    text = str(value).strip()
    return (
        int(text)
        if text.isascii() and text.lstrip("-").isdigit() and len(text) < 19
        else None
    )


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


async def import_calls(
    session: AsyncSession, workspace_id: str, text: str, filename: str = ""
) -> ImportReport:
    """Validate every row of the file and insert the valid ones.

    Raises ImportFileError when the file as a whole is unusable.
    """
    await require_workspace(session, workspace_id)
    validator = RowValidator(
        workspace_id, await published_versions_by_agent(session, workspace_id)
    )
    report = ImportReport()
    valid: list[tuple[int, dict[str, Any]]] = []
    for number, record in read_records(text, filename):
        if isinstance(record, str):
            report.rejected.append((number, [record]))
            continue
        row, errors = validator.validate(record)
        if errors:
            report.rejected.append((number, errors))
        else:
            valid.append((number, row))

    existing = await repository.existing_ids(session, [row["id"] for _, row in valid])
    rows = []
    for number, row in valid:
        if row["id"] in existing:
            report.rejected.append(
                (number, [f"a call with id {row['id']} already exists"])
            )
        else:
            rows.append(row)
    await repository.insert_many(session, [_to_columns(row) for row in rows])
    await repository.insert_events(session, _timeline_events(rows))
    await _queue_analyses(session, rows)
    report.loaded = len(rows)
    report.rejected.sort()
    return report


async def _queue_analyses(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Queue the analysis of imported calls that were picked up, have ended and
    have no analysis yet."""
    active = _active_statuses()
    due = [
        (row["workspace_id"], row["id"], row.get("ended_at") or utc_now())
        for row in rows
        if row["analysis_status"] == AnalysisStatus.PENDING
        and row["status"] not in active
    ]
    await queue.enqueue_many(session, queue.ANALYZE, due)


def _timeline_events(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"call_id": row["id"], "event": event, "occurred_at": row[name]}
        for row in rows
        for name, event in TIMELINE_MOMENTS
        if row[name] is not None
    ]


def _to_columns(row: dict[str, Any]) -> dict[str, Any]:
    columns = dict(row)
    columns["metadata"] = columns.pop("call_metadata")
    return columns
