"""Recording rendering and storage."""

import io
import wave
from pathlib import Path

import pytest

from ringline.dialing.recordings import (
    LocalRecordingStore,
    espeak_available,
    render_recording,
    render_tones,
    wav_duration_ms,
)

SEGMENTS = [
    {"role": "agent", "content": "Hello there.", "start_ms": 0, "end_ms": 900},
    {"role": "user", "content": "Hi.", "start_ms": 1200, "end_ms": 1700},
]


def frames(data: bytes, start_ms: int, end_ms: int) -> bytes:
    with wave.open(io.BytesIO(data)) as audio:
        rate = audio.getframerate()
        audio.setpos(start_ms * rate // 1000)
        return audio.readframes((end_ms - start_ms) * rate // 1000)


def test_tones_cover_turns_and_silence_between() -> None:
    data = render_tones(SEGMENTS, 2000)

    assert wav_duration_ms(data) == 2000
    assert any(frames(data, 100, 800))
    assert not any(frames(data, 950, 1150))
    assert any(frames(data, 1300, 1600))
    assert not any(frames(data, 1750, 2000))


async def test_tones_when_speech_is_off() -> None:
    data = await render_recording(SEGMENTS, 2000, "en-US", speech=False)

    assert wav_duration_ms(data) == 2000
    with wave.open(io.BytesIO(data)) as audio:
        assert audio.getframerate() == 8000


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
async def test_speech_is_synthesized_in_place() -> None:
    data = await render_recording(SEGMENTS, 2000, "en-US", speech=True)

    with wave.open(io.BytesIO(data)) as audio:
        assert audio.getframerate() == 22050
    assert wav_duration_ms(data) == 2000
    assert any(frames(data, 0, 900))
    assert not any(frames(data, 950, 1150))


async def test_unknown_voice_falls_back_to_tones() -> None:
    data = await render_recording(SEGMENTS, 2000, "xx-XX", speech=True)

    assert wav_duration_ms(data) == 2000


async def test_store_keeps_files_inside_its_directory(tmp_path: Path) -> None:
    store = LocalRecordingStore(tmp_path / "recordings")

    await store.save("ws_1/call_1.wav", b"RIFF")

    assert store.path_for("ws_1/call_1.wav").read_bytes() == b"RIFF"
    assert store.path_for("ws_1/missing.wav") is None
    with pytest.raises(ValueError, match="leaves the recordings directory"):
        await store.save("../escape.wav", b"x")
