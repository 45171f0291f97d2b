"""Recordings over HTTP: to an API key, or through a signed link."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from ringline.calls.schemas import ErrorBody
from ringline.core.dependencies import ReadSession, require
from ringline.core.openapi import error_responses
from ringline.keys.service import Principal
from ringline.recordings import service
from ringline.recordings.dependencies import Links, Recordings

router = APIRouter(tags=["recordings"])
CanRead = Annotated[Principal, Depends(require("calls:read"))]

WAV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The recording as WAV. Range requests are answered with 206.",
    }
}
LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ErrorBody,
        "description": "The link is malformed, tampered with, for another call, "
        "or expired.",
    },
    404: {
        "model": ErrorBody,
        "description": "The link is valid but the recording is missing.",
    },
}


def wav_response(path: Path, call_id: str) -> FileResponse:
    # FileResponse streams the file in chunks and serves Range requests with 206.
    # NOTE: a file deleted between the lookup and the send fails as a 500.
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"{call_id}.wav",
        content_disposition_type="inline",
        headers={"cache-control": "private"},
    )


@router.get(
    "/v1/calls/{call_id}/recording",
    response_class=FileResponse,
    responses={**WAV_RESPONSE, **error_responses(400, 401, 403, 404, 429)},
    summary="Stream a call's recording",
)
async def get_recording(
    session: ReadSession, principal: CanRead, recordings: Recordings, call_id: str
) -> FileResponse:
    path = await service.recording_for_key(
        session, recordings, principal.workspace_id, call_id
    )
    return wav_response(path, call_id)


@router.get(
    "/v1/recordings/{call_id}",
    response_class=FileResponse,
    responses={**WAV_RESPONSE, **LINK_ERRORS},
    summary="Stream a recording through a signed link, without an API key",
    description="The link is a call's recording_url. A missing, malformed or "
    "wrong parameter and an expired link are all 403, never 400.",
)
async def get_recording_by_link(
    session: ReadSession,
    recordings: Recordings,
    links: Links,
    call_id: str,
    expires: Annotated[
        str | None, Query(description="Expiry of the link, Unix time in seconds.")
    ] = None,
    signature: Annotated[
        str | None, Query(description="Signature from the call's recording_url.")
    ] = None,
) -> FileResponse:
    path = await service.recording_for_link(
        session, recordings, links, call_id, expires, signature
    )
    return wav_response(path, call_id)
