"""The sandbox conversation: callee personas and the agent's replies.

The agent's replies come from a language model when one is configured, and
otherwise from an offline responder that speaks the prompt's script lines in
order.
"""

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

import httpx
import structlog

log = structlog.get_logger()

SCRIPT_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)]|say:)\s*(.+?)\s*$", re.IGNORECASE)
GOODBYE = "Thank you for your time. Goodbye!"


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    replies: tuple[str, ...]
    farewell: str


PERSONAS = (
    Persona(
        "friendly",
        (
            "Oh hi, yes, great to hear from you!",
            "Yes, that works perfectly for me, thank you.",
            "Sure, I can confirm that. I'm happy with it.",
            "That sounds good, I appreciate the call.",
        ),
        "Thanks so much, have a great day!",
    ),
    Persona(
        "neutral",
        (
            "Hello. Yes, this is me.",
            "Okay. I understand.",
            "Yes, that is fine.",
            "Alright.",
        ),
        "Okay, bye.",
    ),
    Persona(
        "annoyed",
        (
            "Who is this? I'm busy right now.",
            "No, that doesn't work for me. This is annoying.",
            "I already told you people, I'm not interested.",
            "Please stop calling me, this is a waste of my time.",
        ),
        "I have to go.",
    ),
    Persona(
        "hesitant",
        (
            "Um, hello? Who's calling?",
            "I'm not sure, maybe. Can you repeat that?",
            "I guess that could work, but I'd need to check.",
            "Maybe later, I'm not certain yet.",
        ),
        "Okay, um, bye then.",
    ),
)


def persona_for(number: str) -> Persona:
    """Choose the callee's persona from the destination, the same way every time."""
    digest = hashlib.sha256(number.encode()).digest()
    return PERSONAS[digest[0] % len(PERSONAS)]


def script_lines(prompt: str | None) -> list[str]:
    """Return the prompt's script lines: those written as a list item or `Say:`."""
    lines = []
    for line in (prompt or "").splitlines():
        match = SCRIPT_LINE.match(line)
        if match:
            lines.append(match.group(1))
    return lines


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str


class Responder(Protocol):
    async def reply(self, prompt: str, history: list[Turn]) -> str | None:
        """Return the agent's next line, or None when the agent ends the call."""


class ScriptResponder:
    """Speaks the prompt's script lines in order, one per turn, then a goodbye."""

    def __init__(self, prompt: str) -> None:
        self._lines = script_lines(prompt)
        self._spoken = 0
        self._goodbye_spoken = False

    async def reply(self, prompt: str, history: list[Turn]) -> str | None:
        if self._spoken < len(self._lines):
            self._spoken += 1
            return self._lines[self._spoken - 1]
        if not self._goodbye_spoken:
            self._goodbye_spoken = True
            return GOODBYE
        return None


class ModelResponder:
    """Asks an OpenAI-compatible chat completions endpoint for each reply.

    The agent ends the call by answering with the word END_CALL alone, or after
    its goodbye. A failed request ends the conversation politely.
    """

    END_MARKER = "END_CALL"

    def __init__(self, base_url: str, model: str, api_key: str | None) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._finished = False

    def _messages(self, prompt: str, history: list[Turn]) -> list[dict[str, str]]:
        system = (
            f"{prompt}\n\nYou are on a phone call. Reply with one or two short "
            f"sentences. When the conversation is done, reply with {self.END_MARKER}."
        )
        messages = [{"role": "system", "content": system}]
        for turn in history:
            role = "assistant" if turn.role == "agent" else "user"
            messages.append({"role": role, "content": turn.content})
        return messages

    async def reply(self, prompt: str, history: list[Turn]) -> str | None:
        if self._finished:
            return None
        body = {"model": self._model, "messages": self._messages(prompt, history)}
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.post(
                    self._url, json=body, headers=self._headers
                )
                response.raise_for_status()
                text = response.json()["choices"][0]["message"]["content"].strip()
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as error:
            log.warning("conversation.model_failed", error=str(error), url=self._url)
            self._finished = True
            return GOODBYE
        if not text or text == self.END_MARKER:
            return None
        if self.END_MARKER in text:
            self._finished = True
            text = text.replace(self.END_MARKER, "").strip() or GOODBYE
        return text
