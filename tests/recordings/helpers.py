"""Calls with a stored WAV recording, and links signed as the test app signs them."""

import io
import wave
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from ringline.calls.models import Call
from ringline.core.database import transaction
from ringline.dialing.recordings import LocalRecordingStore
from ringline.recordings.signing import RecordingLinks
from tests.factories import TEST_SECRET_KEY, Api, Workspace

LINKS = RecordingLinks(TEST_SECRET_KEY, timedelta(days=1))


def make_wav(frames: int = 4000) -> bytes:
    """Build a mono 16-bit 8 kHz WAV of a sawtooth, so every byte range differs."""
    samples = b"".join(
        ((i * 37) % 20000 - 10000).to_bytes(2, "little", signed=True)
        for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(8000)
        output.writeframes(samples)
    return buffer.getvalue()


async def seed_recorded_call(
    api: Api, workspace: Workspace, recordings_dir: Path, data: bytes | None = None
) -> tuple[str, bytes]:
    """Import a call, store a WAV for it as the worker does, and set its path."""
    (call_id,) = await api.seed(workspace, [{}])
    data = make_wav() if data is None else data
    key = f"{workspace.id}/{call_id}.wav"
    await LocalRecordingStore(recordings_dir).save(key, data)
    await set_recording_path(api, call_id, key)
    return call_id, data


async def set_recording_path(api: Api, call_id: str, key: str) -> None:
    async with transaction(api.sessionmaker) as session:
        await session.execute(
            update(Call).where(Call.id == call_id).values(recording_path=key)
        )
