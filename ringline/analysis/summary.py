"""An extractive summary: the call's most telling sentences, as spoken.

Each sentence is scored by how often its content words (stop words left out)
occur in the whole conversation, so sentences about the call's topic rank
first. The best sentence of each side is taken first, so the summary shows
the callee's words as well as the agent's, then the next best until three
sentences or 300 characters. They are shown in their original order, each run
of sentences after its speaker's label.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ringline.analysis.result import Segment
from ringline.analysis.words import content_words

MAX_SENTENCES = 3
MAX_SUMMARY_CHARS = 300
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SPEAKER_LABELS = {"agent": "Agent", "user": "Callee"}


@dataclass(frozen=True, slots=True)
class Sentence:
    position: int
    role: str
    text: str
    topic_words: frozenset[str]


def summarize(segments: Sequence[Segment]) -> str | None:
    """Return an extractive summary of the conversation, or None when it is empty."""
    sentences = split_sentences(segments)
    if not sentences:
        return None

    frequencies = Counter(
        word for segment in segments for word in content_words(segment["content"])
    )
    ranked = sorted(
        sentences,
        key=lambda sentence: (-_score(sentence, frequencies), sentence.position),
    )
    return render(_choose(ranked))


def split_sentences(segments: Iterable[Segment]) -> list[Sentence]:
    """Split every segment into its sentences, numbered in spoken order."""
    sentences: list[Sentence] = []
    for segment in segments:
        for text in SENTENCE_END.split(segment["content"].strip()):
            if not text:
                continue
            sentences.append(
                Sentence(
                    position=len(sentences),
                    role=segment["role"],
                    text=text,
                    topic_words=frozenset(content_words(text)),
                )
            )
    return sentences


def _score(sentence: Sentence, frequencies: Counter[str]) -> float:
    # Dividing by the square root keeps long sentences from winning on length
    # alone while still ranking them above one-word replies.
    if not sentence.topic_words:
        return 0.0
    total = sum(frequencies[word] for word in sentence.topic_words)
    return total / math.sqrt(len(sentence.topic_words))


def _choose(ranked: list[Sentence]) -> list[Sentence]:
    chosen: list[Sentence] = []
    for role in SPEAKER_LABELS:
        best = next((sentence for sentence in ranked if sentence.role == role), None)
        if best is not None and _fits(chosen + [best]):
            chosen.append(best)

    for sentence in ranked:
        if len(chosen) == MAX_SENTENCES:
            break
        if sentence not in chosen and _fits(chosen + [sentence]):
            chosen.append(sentence)

    # A single sentence longer than the limit is still the best there is.
    return chosen or ranked[:1]


def _fits(sentences: list[Sentence]) -> bool:
    return len(render(sentences)) <= MAX_SUMMARY_CHARS


def render(sentences: list[Sentence]) -> str:
    """Join sentences in spoken order, each speaker's run after its label.

    The text is cut at a word boundary, with an ellipsis, when it exceeds
    MAX_SUMMARY_CHARS.
    """
    parts: list[str] = []
    previous_role = None
    for sentence in sorted(sentences, key=lambda sentence: sentence.position):
        if sentence.role != previous_role:
            parts.append(f"{SPEAKER_LABELS.get(sentence.role, sentence.role)}:")
            previous_role = sentence.role
        text = sentence.text
        parts.append(text if text[-1] in ".!?" else text + ".")

    summary = " ".join(parts)
    if len(summary) > MAX_SUMMARY_CHARS:
        summary = summary[: MAX_SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return summary
