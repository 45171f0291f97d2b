"""Creating and cancelling calls."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.agents import repository as agents
from ringline.agents.service import require_agent, validate_agent_id
from ringline.calls import idempotency, repository
from ringline.calls.enums import CallDirection, CallStatus, CallType, EndReason
from ringline.calls.models import Call
from ringline.calls.schemas import CallCreate
from ringline.calls.serializers import call_model_to_dict
from ringline.calls.service import validate_call_id
from ringline.calls.transitions import apply_move, is_final, record_event
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
from ringline.workspaces.models import Workspace
from ringline.workspaces.service import require_workspace

MAX_METADATA_KEYS = 50
MAX_METADATA_BYTES = 16 * 1024
MAX_SCHEDULE_AHEAD = timedelta(days=30)


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


def _default_caller(agent_caller: str | None, workspace: Workspace) -> str:
    caller = agent_caller or workspace.from_phone_number
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


def _check_country(workspace: Workspace, number: str) -> None:
    if workspace.enabled_countries is None:
        return
    region = destination_region(number)
    if region not in workspace.enabled_countries:
        enabled = ", ".join(workspace.enabled_countries) or "none"
        raise PermissionDenied(
            f"calls to {region} are not enabled for this workspace (enabled: {enabled})"
        )


async def _version_number(
    session: AsyncSession, agent_id: str, requested: int | None
) -> tuple[int, str | None]:
    versions = await agents.list_versions(session, agent_id)
    published = [v for v in versions if v.is_published]
    listed = ", ".join(str(v.version_number) for v in published) or "none"
    if requested is None:
        if not published:
            raise InvalidRequest(
                f"agent {agent_id} has no published version; publish one with "
                "PATCH /v1/agents/{id} and is_published: true"
            )
        return published[-1].version_number, published[-1].from_phone_number

    for version in versions:
        if version.version_number == requested and version.is_published:
            return requested, version.from_phone_number
        if version.version_number == requested:
            raise InvalidRequest(
                f"agent_version_number {requested} is a draft; use a published "
                f"version (published: {listed})"
            )
    raise NotFound(f"agent {agent_id} has no version {requested} (published: {listed})")


async def _insert_call(
    session: AsyncSession, workspace: Workspace, body: CallCreate
) -> Call:
    now = utc_now()
    destination = _destination(body)
    caller = _requested_caller(body)
    metadata = body.metadata or {}
    _check_metadata(metadata)
    scheduled_at = _schedule(body.scheduled_at, now)

    validate_agent_id(body.agent_id, "agent_id")
    agent = await require_agent(session, workspace.id, body.agent_id)
    version, agent_caller = await _version_number(
        session, agent.id, body.agent_version_number
    )
    caller = caller or _default_caller(agent_caller, workspace)
    _check_country(workspace, destination)

    call = Call(
        id=new_id("call"),
        workspace_id=workspace.id,
        agent_id=agent.id,
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
    await repository.add_call(session, call)
    record_event(session, call.id, "call_created", now)
    await queue.enqueue(
        session,
        queue.DIAL,
        workspace.id,
        call.id,
        attempt=1,
        due_at=scheduled_at or now,
    )
    return call


async def create_call(
    session: AsyncSession,
    workspace_id: str,
    body: CallCreate,
    raw_body: object,
    idempotency_key: str | None,
) -> Created:
    """Store a call in status created and queue its first dial, in one transaction.

    With an idempotency key, a repeated request gets the first answer again.
    """
    workspace = await require_workspace(session, workspace_id)
    if idempotency_key is not None:
        fingerprint = idempotency.request_hash(raw_body)
        replay = await idempotency.reserve(
            session, workspace_id, idempotency_key, fingerprint
        )
        if replay is not None:
            return Created(replay.status_code, replay.body, replayed=True)

    call = await _insert_call(session, workspace, body)
    response = orjson.dumps(call_model_to_dict(call))
    if idempotency_key is not None:
        await idempotency.store_answer(
            session, workspace_id, idempotency_key, 201, response
        )
    return Created(201, response, replayed=False)


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
