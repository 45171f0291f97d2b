"""Request dependencies for recordings: the link signer and the store.

Both are built once in create_app and kept on app.state. The getters are
coroutines so that FastAPI does not run them in its thread pool.
"""

from typing import Annotated

from fastapi import Depends, Request

from ringline.calls.serializers import Linker
from ringline.core.time import utc_now
from ringline.dialing.recordings import RecordingStore
from ringline.keys.service import Principal
from ringline.recordings.signing import RecordingLinks, recording_linker


async def get_recording_links(request: Request) -> RecordingLinks:
    return request.app.state.recording_links


async def get_recording_store(request: Request) -> RecordingStore:
    return request.app.state.recording_store


Links = Annotated[RecordingLinks, Depends(get_recording_links)]
Recordings = Annotated[RecordingStore, Depends(get_recording_store)]


def linker_for(request: Request, principal: Principal) -> Linker:
    """Return the recording link maker for the calls of one response.

    The request's base URL costs about 8 µs to build, so it and the links'
    expiry are made at the first call that has a recording, and not at all for
    a page without one.
    """
    linker: Linker | None = None

    def link(call_id: str, recording_path: str | None) -> str | None:
        nonlocal linker
        if recording_path is None:
            return None
        if linker is None:
            linker = recording_linker(
                request.app.state.recording_links,
                str(request.base_url),
                principal.workspace_id,
                utc_now(),
            )
        return linker(call_id, recording_path)

    return link
