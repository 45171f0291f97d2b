"""The outcome of analysing one call's transcript."""

from dataclasses import dataclass
from typing import Any, Literal, TypedDict, get_args

Sentiment = Literal["positive", "neutral", "negative", "unknown"]
SENTIMENTS: tuple[str, ...] = get_args(Sentiment)


class Segment(TypedDict):
    """One turn of the transcript, with its start and end in milliseconds."""

    role: Literal["agent", "user"]
    content: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """The callee's sentiment, a short summary and the agent's analysis fields.

    `fields` maps every defined field name to its value, or to None when the
    conversation does not tell.
    """

    sentiment: Sentiment
    summary: str | None
    fields: dict[str, Any]

    def __post_init__(self) -> None:
        if self.sentiment not in SENTIMENTS:
            raise ValueError(
                f"invalid sentiment {self.sentiment!r}: "
                f"expected one of {', '.join(SENTIMENTS)}"
            )
