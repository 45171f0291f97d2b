"""The telephony provider interface and the sandbox carrier.

A provider dials and returns a CarrierCall through which the runner follows the
call: the carrier accepting the dial request, the answer (or why there was none),
and then speech in both directions.
"""

import asyncio
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from ringline.dialing.conversation import Persona, persona_for


class Answer(Enum):
    ANSWERED = "answered"
    BUSY = "busy"
    RANG_OUT = "rang_out"
    UNREACHABLE = "unreachable"
    VOICEMAIL = "voicemail"


class CalleeHungUp(Exception):
    """The callee hung up while the agent was talking or listening."""


class CarrierCall(Protocol):
    async def accepted(self) -> bool:
        """Wait until the carrier takes the dial request; False if it rejects it.

        It may never return: the runner bounds it with the dial timeout.
        """

    async def answer(self) -> Answer:
        """Wait while the destination rings, and return how it ended."""

    async def say(self, text: str) -> float:
        """Speak text to the callee and return how long it took, in seconds."""

    async def listen(self, silence_timeout_s: float) -> str | None:
        """Return the callee's next utterance, or None after silence_timeout_s.

        Raises CalleeHungUp when the callee hangs up.
        """

    async def hang_up(self) -> None: ...


class TelephonyProvider(Protocol):
    name: str

    async def dial(self, from_number: str, to_number: str) -> CarrierCall: ...


@dataclass(frozen=True, slots=True)
class SandboxTiming:
    ring_s: float
    turn_s: float


# The last two digits of a sandbox destination choose what happens to the call.
BUSY, RINGS_OUT, UNREACHABLE, REJECTED = "01", "02", "03", "04"
VOICEMAIL, HANGS_UP_EARLY, SILENT, NO_DIAL_RESPONSE = "05", "06", "07", "08"


class SandboxCall:
    """A simulated call whose outcome and callee follow the destination number."""

    def __init__(self, to_number: str, timing: SandboxTiming) -> None:
        self._ending = to_number[-2:]
        self._timing = timing
        self._persona: Persona = persona_for(to_number)
        self._replies = 0

    async def accepted(self) -> bool:
        if self._ending == NO_DIAL_RESPONSE:
            await asyncio.Event().wait()
        await asyncio.sleep(min(0.2, self._timing.ring_s / 10))
        return self._ending != REJECTED

    async def answer(self) -> Answer:
        if self._ending == UNREACHABLE:
            await asyncio.sleep(self._timing.ring_s / 10)
            return Answer.UNREACHABLE
        if self._ending == BUSY:
            await asyncio.sleep(self._timing.ring_s / 4)
            return Answer.BUSY
        await asyncio.sleep(self._timing.ring_s)
        if self._ending == RINGS_OUT:
            return Answer.RANG_OUT
        if self._ending == VOICEMAIL:
            return Answer.VOICEMAIL
        return Answer.ANSWERED

    async def say(self, text: str) -> float:
        seconds = self._speech_seconds(text)
        await asyncio.sleep(seconds)
        return seconds

    async def listen(self, silence_timeout_s: float) -> str | None:
        if self._ending == SILENT:
            await asyncio.sleep(silence_timeout_s)
            return None
        if self._ending == HANGS_UP_EARLY and self._replies >= 1:
            await asyncio.sleep(self._timing.turn_s / 2)
            raise CalleeHungUp()

        replies = self._persona.replies
        text = replies[self._replies % len(replies)]
        self._replies += 1
        await asyncio.sleep(self._speech_seconds(text))
        return text

    def farewell(self) -> str:
        return self._persona.farewell

    def _speech_seconds(self, text: str) -> float:
        # One turn's pace stretches with the length of the utterance.
        words = max(1, len(text.split()))
        return self._timing.turn_s * min(2.0, 0.5 + words / 16)

    async def hang_up(self) -> None:
        return None


class SandboxProvider:
    """The default carrier: no network, every outcome reachable on purpose."""

    name = "sandbox"

    def __init__(self, timing: SandboxTiming) -> None:
        self.timing = timing

    async def dial(self, from_number: str, to_number: str) -> SandboxCall:
        return SandboxCall(to_number, self.timing)
