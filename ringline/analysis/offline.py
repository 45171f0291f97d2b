"""Post-call analysis without a language model or any network access.

Sentiment: the VADER lexicon model scores each of the callee's turns, and the
compound scores are averaged: 0.05 or more is positive, -0.05 or less is
negative, anything between is neutral. A callee with no spoken turn is unknown.
The agent's turns are not scored, because the agent is polite by script.

Summary: up to three of the conversation's most telling sentences, at most
300 characters, as `ringline.analysis.summary` describes.

Fields are read by rules, and a field the rules cannot read is None:

- The question about a field is the agent turn that shares the most content
  words (stop words left out, a shared stem of four letters counts) with the
  field's name, split on `_`, and its description. Turns with a question mark
  rank first, and a later turn wins a tie. The answer is the callee's next
  turn, all of its consecutive segments.
- TEXT is the answer itself.
- BOOLEAN is a clear yes ("yes", "sure", "correct", "I will", ...) or a clear
  no ("no", "not", "can't", ...). An answer with both, with neither, or with
  doubt ("maybe", "not sure", "I don't know") is None.
- NUMBER is the one distinct number in the answer, as digits or a word from
  one to twenty. "That one" and the like count nothing.
- DATETIME is the one distinct date or time in the answer, found by dateparser
  and resolved against `reference`, preferring the future. It is ISO 8601
  text: a date when only a day was named, else a date and time without an
  offset. A month or year alone is no date.
- For NUMBER and DATETIME, an answer that names no value but is a clear yes
  agrees to the one value that the question proposes, if it proposes one.
- SELECTOR is the one option named in the answer, as whole words in any case.
  An answer naming none takes the question's one option after a clear yes,
  and is None after a clear no. Otherwise it is the one option named anywhere
  in the callee's turns.
- Two or more distinct values are always None. Every value passes
  `fields.coerce`, so its type matches the definition.
"""

import functools
from collections.abc import Sequence
from datetime import datetime
from statistics import fmean

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from ringline.analysis.extraction import extract_fields
from ringline.analysis.fields import FieldDefinition
from ringline.analysis.result import AnalysisResult, Segment, Sentiment
from ringline.analysis.summary import summarize
from ringline.core.time import utc_now

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05


def analyze_offline(
    segments: Sequence[Segment],
    definitions: Sequence[FieldDefinition],
    reference: datetime | None = None,
) -> AnalysisResult:
    """Analyse a transcript by lexicon and rules.

    `reference` is the moment relative dates count from, normally the call's
    end, and defaults to now.
    """
    return AnalysisResult(
        sentiment=score_sentiment(segments),
        summary=summarize(segments),
        fields=extract_fields(segments, definitions, reference or utc_now()),
    )


def score_sentiment(segments: Sequence[Segment]) -> Sentiment:
    """Return the callee's sentiment from the average VADER compound score."""
    callee_turns = [
        segment["content"]
        for segment in segments
        if segment["role"] == "user" and segment["content"].strip()
    ]
    if not callee_turns:
        return "unknown"

    analyzer = _sentiment_analyzer()
    compound = fmean(
        analyzer.polarity_scores(text)["compound"] for text in callee_turns
    )
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


# The lexicon is read from disk on creation, so one analyzer serves the process.
@functools.cache
def _sentiment_analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()
