"""Call recordings: rendering a WAV from the transcript's timing, and storage.

Speech is synthesized with espeak-ng when it is installed. Without it, each turn
is rendered as a quiet tone over the turn's time span (440 Hz for the agent,
330 Hz for the callee) with silence between turns, so the recording still has
the call's real length and rhythm but no words.
"""

import asyncio
import io
import math
import shutil
import tempfile
import wave
from array import array
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger()

TONE_RATE = 8000
TONE_HZ = {"agent": 440, "user": 330}
TONE_AMPLITUDE = 2000
# espeak-ng runs as a subprocess per turn; more at once would starve the worker.
SYNTHESIS_SLOTS = asyncio.Semaphore(2)


class RecordingStore(Protocol):
    """Storage for recordings; an S3-compatible store can implement the same."""

    async def save(self, key: str, data: bytes) -> None: ...

    def path_for(self, key: str) -> Path | None:
        """Return a local file path for key, or None if it is not stored."""


class LocalRecordingStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        path = (self.directory / key).resolve()
        if self.directory.resolve() not in path.parents:
            raise ValueError(f"recording key {key!r} leaves the recordings directory")
        return path

    async def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        await asyncio.to_thread(_write_atomically, path, data)

    def path_for(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(path)


def _tone_chunk(frequency: int) -> bytes:
    # One second of tone repeats cleanly because both frequencies divide the rate.
    samples = array(
        "h",
        (
            int(TONE_AMPLITUDE * math.sin(2 * math.pi * frequency * i / TONE_RATE))
            for i in range(TONE_RATE)
        ),
    )
    return samples.tobytes()


TONES = {role: _tone_chunk(hz) for role, hz in TONE_HZ.items()}


def _samples(duration_ms: int, rate: int) -> int:
    return max(0, duration_ms * rate // 1000)


def render_tones(segments: list[dict[str, Any]], duration_ms: int) -> bytes:
    """Render turns as tones over their spans, silence elsewhere, as a WAV file."""
    pcm = bytearray(_samples(duration_ms, TONE_RATE) * 2)
    for segment in segments:
        start = _samples(segment["start_ms"], TONE_RATE) * 2
        end = min(len(pcm), _samples(segment["end_ms"], TONE_RATE) * 2)
        if end <= start:
            continue
        tone = TONES.get(segment["role"], TONES["agent"])
        repeated = tone * (1 + (end - start) // len(tone))
        pcm[start:end] = repeated[: end - start]
    return _wav(bytes(pcm), TONE_RATE)


def _wav(pcm: bytes, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(pcm)
    return buffer.getvalue()


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


async def _synthesize(text: str, voice: str, directory: str) -> tuple[bytes, int]:
    target = Path(directory) / "turn.wav"
    async with SYNTHESIS_SLOTS:
        process = await asyncio.create_subprocess_exec(
            "espeak-ng",
            "-v",
            voice,
            "-w",
            str(target),
            "--",
            text,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, errors = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(errors.decode(errors="replace").strip())
    with wave.open(str(target), "rb") as speech:
        return speech.readframes(speech.getnframes()), speech.getframerate()


async def render_speech(
    segments: list[dict[str, Any]], duration_ms: int, voices: dict[str, str]
) -> bytes:
    """Render each turn with espeak-ng at its start offset, cut at its end."""
    rate = 22050
    pcm = bytearray(_samples(duration_ms, rate) * 2)
    with tempfile.TemporaryDirectory() as directory:
        for segment in segments:
            speech, speech_rate = await _synthesize(
                segment["content"], voices.get(segment["role"], "en-us"), directory
            )
            if speech_rate != rate:
                raise RuntimeError(f"espeak-ng wrote {speech_rate} Hz, expected {rate}")
            start = _samples(segment["start_ms"], rate) * 2
            end = min(
                len(pcm), _samples(segment["end_ms"], rate) * 2, start + len(speech)
            )
            if end > start:
                pcm[start:end] = speech[: end - start]
    return _wav(bytes(pcm), rate)


async def render_recording(
    segments: list[dict[str, Any]], duration_ms: int, language: str, speech: bool
) -> bytes:
    """Render with espeak-ng when asked and installed, else with tones.

    A synthesis failure falls back to tones, so it never fails the call.
    """
    if speech and espeak_available():
        voice = language.lower()
        try:
            return await render_speech(
                segments, duration_ms, {"agent": voice, "user": f"{voice}+f3"}
            )
        except (OSError, RuntimeError, wave.Error) as error:
            log.warning("recording.speech_failed", error=str(error))
    return render_tones(segments, duration_ms)


def wav_duration_ms(data: bytes) -> int:
    with wave.open(io.BytesIO(data), "rb") as recording:
        return recording.getnframes() * 1000 // recording.getframerate()
