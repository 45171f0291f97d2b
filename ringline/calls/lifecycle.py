"""Creating and cancelling calls."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import phonenumbers
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ringline.agents.service import validate_agent_id
from ringline.calls import idempotency, repository
from ringline.calls.enums import CallDirection, CallStatus, CallType, EndReason
from ringline.calls.intake import CallIntake, NewCall
from ringline.calls.models import Call
from ringline.calls.repository import CreateContext
from ringline.calls.schemas import CallCreate
from ringline.calls.serializers import call_model_to_dict
from ringline.calls.service import validate_call_id
from ringline.calls.transitions import apply_move, is_final
from ringline.core.database import Reader, create_sessionmaker
from ringline.core.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from ringline.core.ids import new_id
from ringline.core.phones import PhoneNumberError, normalize_phone_number
from ringline.core.time import utc_now
from ringline.core.timestamps import TimestampError, parse_timestamp
from ringline.jobs import queue

MAX_METADATA_KEYS = 50
MAX_METADATA_BYTES = 16 * 1024
MAX_SCHEDULE_AHEAD = timedelta(days=30)
# The columns a create sets. The other columns of a new call take their defaults.
NEW_CALL_ATTRIBUTES = (
    "id",
    "workspace_id",
    "agent_id",
    "agent_version_number",
    "type",
    "call_direction",
    "from_phone_number",
    "to_phone_number",
    "status",
    "call_metadata",
    "scheduled_at",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class Created:
    status_code: int
    body: bytes
    replayed: bool


def _one_of(name: str, values: dict[str, str | None]) -> str | None:
    provided = {field: value for field, value in values.items() if value is not None}
    if len(set(provided.values())) > 1:
        fields = " and ".join(provided)
        raise InvalidRequest(
            f"{fields} name the same {name} but differ; give only one of them"
        )
    return next(iter(provided.values()), None)


def _destination(body: CallCreate) -> str:
    raw = _one_of(
        "destination",
        {
            "phone_number": body.phone_number,
            "to_phone_number": body.to_phone_number,
            "to_number": body.to_number,
        },
    )
    if raw is None:
        raise InvalidRequest("phone_number is required: the destination in E.164")
    try:
        return normalize_phone_number("phone_number", raw)
    except PhoneNumberError as error:
        raise InvalidRequest(str(error)) from None


def _requested_caller(body: CallCreate) -> str | None:
    raw = _one_of(
        "caller number",
        {"from_phone_number": body.from_phone_number, "from_number": body.from_number},
    )
    if raw is None:
        return None
    try:
        return normalize_phone_number("from_phone_number", raw)
    except PhoneNumberError as error:
        raise InvalidRequest(str(error)) from None


def _default_caller(agent_caller: str | None, context: CreateContext) -> str:
    caller = agent_caller or context.workspace_caller
    if caller is None:
        raise InvalidRequest(
            "from_phone_number is required: neither the agent version nor the "
            "workspace has a default caller number"
        )
    return caller


def _check_metadata(metadata: dict[str, Any]) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidRequest(
            f"metadata must have at most {MAX_METADATA_KEYS} keys (got {len(metadata)})"
        )
    size = len(orjson.dumps(metadata))
    if size > MAX_METADATA_BYTES:
        raise InvalidRequest(
            f"metadata must be at most {MAX_METADATA_BYTES} bytes encoded (got {size})"
        )


def _schedule(raw: str | None, now: datetime) -> datetime | None:
    if raw is None:
        return None
    try:
        when = parse_timestamp("scheduled_at", raw)
    except TimestampError as error:
        raise InvalidRequest(str(error)) from None
    if when <= now:
        raise InvalidRequest(f"scheduled_at must be in the future (got {raw[:40]})")
    if when > now + MAX_SCHEDULE_AHEAD:
        raise InvalidRequest(
            f"scheduled_at must be at most 30 days ahead (got {raw[:40]})"
        )
    return when


def destination_region(number: str) -> str:
    parsed = phonenumbers.parse(number, None)
    region = phonenumbers.region_code_for_number(parsed)
    return region or phonenumbers.region_code_for_country_code(parsed.country_code)


def _check_country(enabled_countries: list[str] | None, number: str) -> None:
    if enabled_countries is None:
        return
    region = destination_region(number)
    if region not in enabled_countries:
        enabled = ", ".join(enabled_countries) or "none"
        raise PermissionDenied(
            f"calls to {region} are not enabled for this workspace (enabled: {enabled})"
        )


def _version_number(
    context: CreateContext, agent_id: str, requested: int | None
) -> tuple[int, str | None]:
    published = [version for version in context.versions if version[1]]
    listed = ", ".join(str(number) for number, _, _ in published) or "none"
    if requested is None:
        if not published:
            raise InvalidRequest(
                f"agent {agent_id} has no published version; publish one with "
                "PATCH /v1/agents/{id} and is_published: true"
            )
        number, _, caller = published[-1]
        return number, caller

    for number, is_published, caller in context.versions:
        if number == requested and is_published:
            return requested, caller
        if number == requested:
            raise InvalidRequest(
                f"agent_version_number {requested} is a draft; use a published "
                f"version (published: {listed})"
            )
    raise NotFound(f"agent {agent_id} has no version {requested} (published: {listed})")


async def _new_call(reader: Reader, workspace_id: str, body: CallCreate) -> Call:
    """Validate a create against the stored workspace and agent, and build the
    requested call without adding it to any session."""
    now = utc_now()
    destination = _destination(body)
    caller = _requested_caller(body)
    metadata = body.metadata or {}
    _check_metadata(metadata)
    scheduled_at = _schedule(body.scheduled_at, now)
    validate_agent_id(body.agent_id, "agent_id")

    context = await repository.create_context(reader, workspace_id, body.agent_id)
    if context is None:
        raise NotFound(f"workspace {workspace_id} not found")
    if not context.agent_found:
        raise NotFound(f"agent {body.agent_id} not found")
    version, agent_caller = _version_number(
        context, body.agent_id, body.agent_version_number
    )
    caller = caller or _default_caller(agent_caller, context)
    _check_country(context.enabled_countries, destination)

    return Call(
        id=new_id("call"),
        workspace_id=workspace_id,
        agent_id=body.agent_id,
        agent_version_number=version,
        type=CallType.PHONE,
        call_direction=CallDirection.OUTBOUND,
        from_phone_number=caller,
        to_phone_number=destination,
        status=CallStatus.CREATED,
        call_metadata=metadata,
        scheduled_at=scheduled_at,
        created_at=now,
        updated_at=now,
    )


def _rows_of(call: Call, idempotency_key: dict[str, Any] | None) -> NewCall:
    values = {name: getattr(call, name) for name in NEW_CALL_ATTRIBUTES}
    due_at = call.scheduled_at or call.created_at
    return NewCall(
        call=values,
        event={
            "call_id": call.id,
            "event": "call_created",
            "occurred_at": call.created_at,
        },
        job=queue.job_row(queue.DIAL, call.workspace_id, call.id, 1, due_at),
        idempotency_key=idempotency_key,
    )


async def create_call(
    reader: Reader,
    intake: CallIntake,
    workspace_id: str,
    body: CallCreate,
    idempotency_key: str | None,
) -> Created:
    """Store a call in status created and queue its first dial, in one transaction.

    Validation reads through reader, outside any transaction, and the rows are
    written by the intake together with other creates waiting at that moment.
    With an idempotency key, a repeated request gets the first response again.
    """
    fingerprint = ""
    if idempotency_key is not None:
        idempotency_key = idempotency.parse_key(idempotency_key)
        fingerprint = idempotency.request_hash(body.model_dump(exclude_unset=True))
        replay = await idempotency.find_replay(
            reader, workspace_id, idempotency_key, fingerprint
        )
        if replay is not None:
            return Created(replay.status_code, replay.body, replayed=True)

    call = await _new_call(reader, workspace_id, body)
    response = orjson.dumps(call_model_to_dict(call))
    key_row = None
    if idempotency_key is not None:
        key_row = idempotency.key_row(
            workspace_id, idempotency_key, fingerprint, 201, response
        )
    try:
        await intake.store(_rows_of(call, key_row))
    except IntegrityError:
        if idempotency_key is None:
            raise
        # Another request with this key was stored first, so this is a repeat.
        replay = await idempotency.find_replay(
            reader, workspace_id, idempotency_key, fingerprint
        )
        if replay is None:
            raise
        return Created(replay.status_code, replay.body, replayed=True)
    return Created(201, response, replayed=False)


async def create_calls(
    engine: AsyncEngine, workspace_id: str, bodies: list[CallCreate]
) -> list[Created]:
    """Create calls without a server, as POST /v1/calls does, in the given order."""
    intake = CallIntake(create_sessionmaker(engine))
    reader = Reader(engine)
    try:
        creates = [
            create_call(reader, intake, workspace_id, body, None) for body in bodies
        ]
        return list(await asyncio.gather(*creates))
    finally:
        await intake.close()
        await reader.close()


async def cancel_call(
    session: AsyncSession, workspace_id: str, call_id: str
) -> dict[str, Any]:
    """Cancel a call that has not connected, or hang up a live one.

    A live call ends as completed with agent_disconnected; the worker running it
    sees the final status and stops.
    """
    validate_call_id(call_id)
    call = await repository.get_for_update(session, workspace_id, call_id)
    if call is None:
        raise NotFound(f"call {call_id} not found")
    if is_final(call.status):
        raise Conflict(f"call {call_id} has already ended with status {call.status}")

    now = utc_now()
    if call.status == CallStatus.RECEIVED:
        apply_move(
            session, call, CallStatus.COMPLETED, now, EndReason.AGENT_DISCONNECTED
        )
    else:
        apply_move(session, call, CallStatus.CANCELLED, now)
    await session.flush()
    return call_model_to_dict(call)
