"""The webhook outbox: call events written in the transaction that caused them.

Code that changes a call notes the event with note_event. Before the
transaction commits, write_noted turns each noted event into a stored event
with its frozen body and one pending delivery per active webhook subscribed to
it. Both commit together, so a crash after the change has committed can delay
the event but not lose it.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.call_logs.serializers import call_log_to_dict
from ringline.calls import repository as calls
from ringline.calls.models import Call
from ringline.calls.serializers import Linker, no_link
from ringline.core.database import BEFORE_COMMIT_KEY
from ringline.core.ids import new_id
from ringline.core.settings import Settings
from ringline.core.time import format_timestamp
from ringline.recordings.signing import RecordingLinks, event_links
from ringline.webhooks.models import Webhook, WebhookDelivery, WebhookEvent

NOTED_KEY = "ringline.webhook_events"
# The session.info key of a function (workspace id, time) -> Linker that gives
# event bodies their recording links; see recordings.signing.event_links.
EVENT_LINKS_KEY = "ringline.event_recording_links"
CALL_INITIATED, CALL_ENDED, CALL_ANALYZED = (
    "call_initiated",
    "call_ended",
    "call_analyzed",
)
# Events whose call object carries the transcript.
WITH_TRANSCRIPT = {CALL_ENDED, CALL_ANALYZED}


def note_event(
    session: AsyncSession, call_id: str, event_type: str, at: datetime
) -> None:
    """Note that a call event happened in this session's transaction."""
    noted = session.info.setdefault(NOTED_KEY, [])
    if not noted:
        session.info.setdefault(BEFORE_COMMIT_KEY, []).append(write_noted)
    noted.append((call_id, event_type, at))


def event_session_info(settings: Settings, secret_key: str) -> dict[str, Any]:
    """Return the session info under which stored event bodies carry signed
    recording links: empty when RINGLINE_PUBLIC_URL is unset."""
    links = RecordingLinks(
        secret_key, timedelta(seconds=settings.recording_link_seconds)
    )
    make = event_links(links, settings.public_url)
    return {} if make is None else {EVENT_LINKS_KEY: make}


async def write_noted(session: AsyncSession) -> None:
    """Store the noted events that some active webhook subscribes to."""
    noted: list[tuple[str, str, datetime]] = session.info.pop(NOTED_KEY, [])
    if not noted or not await _any_active_webhook(session):
        return
    await session.flush()
    call_ids = list(dict.fromkeys(call_id for call_id, _, _ in noted))
    rows = await _call_rows(session, call_ids)
    subscribers = await _subscribers(session, {row[-2] for row in rows.values()})
    if not subscribers:
        return

    sequences = await _last_sequences(session, call_ids)
    event_links = session.info.get(EVENT_LINKS_KEY)
    events, deliveries = [], []
    for call_id, event_type, at in noted:
        row = rows.get(call_id)
        hooks = [] if row is None else subscribers.get((row[-2], event_type), [])
        if not hooks:
            continue
        sequences[call_id] += 1
        link = no_link if event_links is None else event_links(row[-2], at)
        event = _event(row, event_type, at, sequences[call_id], link)
        events.append(event)
        deliveries += [_first_delivery(hook, event, at) for hook in hooks]
    if events:
        await session.execute(insert(WebhookEvent), events)
        await session.execute(insert(WebhookDelivery), deliveries)


async def _any_active_webhook(session: AsyncSession) -> bool:
    """Return whether any workspace has an active webhook: a cheap first check,
    since most status changes of a server without webhooks need no more."""
    query = select(Webhook.id).where(Webhook.is_active.is_(True)).limit(1)
    return (await session.scalar(query)) is not None


async def _call_rows(session: AsyncSession, call_ids: list[str]) -> dict[str, Any]:
    """Read each call as the call log reads it, then its workspace and transcript."""
    query = select(*calls.LOG_COLUMNS, Call.workspace_id, Call.transcript).where(
        Call.id.in_(call_ids)
    )
    return {row[0]: row for row in await session.execute(query)}


async def _subscribers(
    session: AsyncSession, workspace_ids: set[str]
) -> dict[tuple[str, str], list[str]]:
    """Return the active webhook ids by (workspace id, event type)."""
    if not workspace_ids:
        return {}
    query = select(Webhook.id, Webhook.workspace_id, Webhook.events).where(
        Webhook.workspace_id.in_(workspace_ids), Webhook.is_active.is_(True)
    )
    subscribers: dict[tuple[str, str], list[str]] = defaultdict(list)
    for webhook_id, workspace_id, events in await session.execute(query):
        for event_type in events:
            subscribers[(workspace_id, event_type)].append(webhook_id)
    return subscribers


async def _last_sequences(
    session: AsyncSession, call_ids: list[str]
) -> defaultdict[str, int]:
    query = (
        select(WebhookEvent.call_id, func.max(WebhookEvent.sequence))
        .where(WebhookEvent.call_id.in_(call_ids))
        .group_by(WebhookEvent.call_id)
    )
    sequences: defaultdict[str, int] = defaultdict(int)
    for call_id, sequence in await session.execute(query):
        sequences[call_id] = sequence
    return sequences


def _event(
    row: Any, event_type: str, at: datetime, sequence: int, link: Linker
) -> dict[str, Any]:
    event_id = new_id("evt")
    call = call_log_to_dict(row, link)
    if event_type in WITH_TRANSCRIPT:
        call["transcript"] = row[-1]
    body = {
        "event_id": event_id,
        "event_type": event_type,
        "created_at": format_timestamp(at),
        "sequence": sequence,
        "payload": {"call": call},
    }
    return {
        "id": event_id,
        "workspace_id": row[-2],
        "call_id": row[0],
        "event_type": event_type,
        "sequence": sequence,
        "body": orjson.dumps(body),
        "created_at": at,
    }


def _first_delivery(webhook_id: str, event: dict[str, Any], at: datetime) -> dict:
    return {
        "id": new_id("delivery"),
        "webhook_id": webhook_id,
        "event_id": event["id"],
        "workspace_id": event["workspace_id"],
        "event_type": event["event_type"],
        "call_id": event["call_id"],
        "attempt": 1,
        "state": "pending",
        "due_at": at,
        "created_at": at,
    }
