"""Finding a call's recording file, for an API key or for a signed link."""

from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ringline.calls.service import validate_call_id
from ringline.core.errors import NotFound
from ringline.core.ids import is_valid_id
from ringline.core.time import utc_now
from ringline.dialing.recordings import RecordingStore
from ringline.recordings import repository
from ringline.recordings.signing import (
    RecordingLinkInvalid,
    RecordingLinks,
    parse_link_query,
)

log = structlog.get_logger()


def _stored_file(store: RecordingStore, call_id: str, key: str | None) -> Path:
    if key is None:
        raise NotFound(f"call {call_id} has no recording")
    missing = NotFound(f"recording of call {call_id} is missing from storage")
    try:
        path = store.path_for(key)
    except ValueError as error:
        # Only the worker writes keys, so one outside the store is a fault.
        log.error("recording.key_rejected", call_id=call_id, error=str(error))
        raise missing from None
    if path is None:
        log.error("recording.file_missing", call_id=call_id, key=key)
        raise missing
    return path


async def recording_for_key(
    session: AsyncSession, store: RecordingStore, workspace_id: str, call_id: str
) -> Path:
    """Return the recording file of a call in the key's workspace.

    Raises InvalidRequest for a malformed id, and NotFound when the call is not
    in the workspace or has no stored recording.
    """
    validate_call_id(call_id)
    location = await repository.get_recording_location(session, call_id, workspace_id)
    if location is None:
        raise NotFound(f"call {call_id} not found")
    return _stored_file(store, call_id, location.recording_path)


async def recording_for_link(
    session: AsyncSession,
    store: RecordingStore,
    links: RecordingLinks,
    call_id: str,
    expires: str | None,
    signature: str | None,
) -> Path:
    """Return the recording file a signed link points to.

    Every problem with the link itself, a malformed call id included, raises a
    403 error (RecordingLinkInvalid or RecordingLinkExpired), never a 400. A
    valid link to a recording that is gone raises NotFound.
    """
    expires_s, signature = parse_link_query(expires, signature)
    # Checked before the query, because PostgreSQL rejects text that contains NUL.
    if len(call_id) > 64 or not is_valid_id(call_id):
        raise RecordingLinkInvalid("the call id is malformed")

    # The link carries no workspace id, so it is read from the call to check the
    # signature. An unknown call raises the same error as a bad signature.
    location = await repository.get_recording_location(session, call_id)
    if location is None:
        raise RecordingLinkInvalid("the signature does not match")
    links.verify(call_id, location.workspace_id, expires_s, signature, utc_now())
    return _stored_file(store, call_id, location.recording_path)
