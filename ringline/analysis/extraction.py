"""Rule-based reading of analysis fields from a transcript, without a model.

Each rule returns None rather than a guess. The rules are listed in the
docstring of `ringline.analysis.offline`.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dateparser.date import DateDataParser  # type: ignore[import-untyped]
from dateparser.search import search_dates  # type: ignore[import-untyped]

from ringline.analysis.fields import FieldDefinition, FieldValue, coerce
from ringline.analysis.result import Segment
from ringline.analysis.words import content_words, same_word

UNSURE = re.compile(
    r"\b(?:not sure|not certain|don't know|do not know|no idea|maybe|perhaps|"
    r"might|i guess|depends)\b"
)
YES = re.compile(
    r"\b(?:yes|yeah|yep|yup|sure|correct|right|absolutely|definitely|certainly|"
    r"of course|exactly|that works|sounds good|no problem|no worries)\b"
    r"|\bi (?:will|can|do|am|would)\b(?!n't|'t|\s+not\b)"
)
NO = re.compile(
    r"\bno\b(?!\s+(?:problem|worries)\b)"
    r"|\b(?:nope|nah|not|never|cannot|dont|cant|wont|didnt|doesnt|isnt)\b"
    r"|\w+n't\b"
)
DIGITS = re.compile(r"\b(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\b")
NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split(),
        start=1,
    )
}
NUMBER_WORD = re.compile(r"\b(?:" + "|".join(NUMBER_WORDS) + r")\b")
# "That one" or "the other one" points at a thing and counts nothing.
ONE_AS_PRONOUN = re.compile(
    r"\b(?:that|this|the|which|no|any|some|every|each|another|other|a)\s+one\b"
)
# dateparser also reads abbreviations such as "we" (Wednesday) or "sun" and
# durations such as "a second" as dates. A transcript spells days out, so a
# match of three letters or fewer without a digit is dropped, and so are these.
NOT_DATES = frozenset({"second", "a second", "a minute", "a moment"})
MIN_DATE_WORD_LENGTH = 4
DATE_LANGUAGES = ["en"]


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str


def extract_fields(
    segments: Sequence[Segment],
    definitions: Sequence[FieldDefinition],
    reference: datetime,
) -> dict[str, FieldValue | None]:
    """Read every field's value from the transcript, or None where it is unclear."""
    turns = merge_turns(segments)
    values: dict[str, FieldValue | None] = {}
    for definition in definitions:
        value = _extract(definition, turns, reference)
        try:
            values[definition["field_name"]] = coerce(definition, value)
        except ValueError:
            # A value of the wrong type is no reading of the field, so the
            # honest result is null.
            values[definition["field_name"]] = None
    return values


def merge_turns(segments: Sequence[Segment]) -> list[Turn]:
    """Join consecutive segments of one speaker into turns, dropping blank ones."""
    turns: list[Turn] = []
    for segment in segments:
        content = segment["content"].strip()
        if not content:
            continue
        if turns and turns[-1].role == segment["role"]:
            turns[-1] = Turn(segment["role"], f"{turns[-1].content} {content}")
        else:
            turns.append(Turn(segment["role"], content))
    return turns


def find_question(definition: FieldDefinition, turns: Sequence[Turn]) -> int | None:
    """Return the index of the agent turn that questions the callee on the field.

    A turn qualifies when it shares a content word with the field's name or
    description. Turns with a question mark rank first, then those sharing
    more words, then later ones, because an agent repeats a question whose
    first answer was unclear.
    """
    name_words = definition["field_name"].replace("_", " ")
    description = definition.get("field_description") or ""
    keywords = set(content_words(f"{name_words} {description}"))
    best: int | None = None
    best_rank: tuple[bool, int, int] | None = None
    for index, turn in enumerate(turns):
        if turn.role != "agent":
            continue
        spoken = content_words(turn.content)
        overlap = sum(
            1 for keyword in keywords if any(same_word(keyword, w) for w in spoken)
        )
        if overlap == 0:
            continue
        rank = ("?" in turn.content, overlap, index)
        if best_rank is None or rank > best_rank:
            best, best_rank = index, rank
    return best


def _extract(
    definition: FieldDefinition, turns: Sequence[Turn], reference: datetime
) -> Any:
    question_index = find_question(definition, turns)
    question = turns[question_index].content if question_index is not None else None
    answer = None
    if question_index is not None and question_index + 1 < len(turns):
        following = turns[question_index + 1]
        answer = following.content if following.role == "user" else None

    field_type = definition["field_type"]
    if field_type == "TEXT":
        return answer
    if field_type == "BOOLEAN":
        return read_yes_no(answer) if answer else None
    if field_type == "NUMBER":
        return _read_value(find_numbers, question, answer)
    if field_type == "DATETIME":
        return _read_value(
            lambda text: find_datetimes(text, reference), question, answer
        )
    if field_type == "SELECTOR":
        options = definition.get("options") or []
        return _read_selector(options, turns, question, answer)
    return None


def _read_value(
    find: Callable[[str], set[Any]], question: str | None, answer: str | None
) -> Any:
    # A clear yes to a question that proposes exactly one value agrees to it:
    # "Shall I book you for Tuesday at 3 pm?" "Yes, please."
    if question is None or answer is None:
        return None
    found = find(answer)
    if not found and read_yes_no(answer) is True:
        found = find(question)
    return found.pop() if len(found) == 1 else None


def _read_selector(
    options: list[str],
    turns: Sequence[Turn],
    question: str | None,
    answer: str | None,
) -> str | None:
    if question is not None and answer is not None:
        found = find_options(options, answer)
        if found:
            return found.pop() if len(found) == 1 else None
        agreed = read_yes_no(answer)
        if agreed is True:
            proposed = find_options(options, question)
            return proposed.pop() if len(proposed) == 1 else None
        if agreed is False:
            return None

    mentioned: set[str] = set()
    for turn in turns:
        if turn.role == "user":
            mentioned |= find_options(options, turn.content)
    return mentioned.pop() if len(mentioned) == 1 else None


def read_yes_no(text: str) -> bool | None:
    """Read a clear yes or no from an answer, or None for doubt, both or neither."""
    lowered = text.lower().replace("\u2019", "'")
    if UNSURE.search(lowered):
        return None
    has_yes = YES.search(lowered) is not None
    has_no = NO.search(lowered) is not None
    if has_yes == has_no:
        return None
    return has_yes


def find_numbers(text: str) -> set[int | float]:
    """Return the distinct numbers in text, written as digits or one to twenty."""
    lowered = ONE_AS_PRONOUN.sub(" ", text.lower())
    numbers: set[int | float] = set()
    for match in DIGITS.finditer(lowered):
        digits = match.group().replace(",", "")
        numbers.add(float(digits) if "." in digits else int(digits))
    for match in NUMBER_WORD.finditer(lowered):
        numbers.add(NUMBER_WORDS[match.group()])
    return numbers


def find_options(options: list[str], text: str) -> set[str]:
    """Return the options named in text as whole words, in any case.

    A mention inside a longer option's mention counts only for the longer one,
    so "premium plan" does not also name an option "plan".
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for option in options:
        pattern = re.compile(rf"(?<!\w){re.escape(option)}(?!\w)", re.IGNORECASE)
        spans[option] = [match.span() for match in pattern.finditer(text)]

    every_span = [span for option_spans in spans.values() for span in option_spans]
    return {
        option
        for option, option_spans in spans.items()
        if any(not _inside_longer(span, every_span) for span in option_spans)
    }


def _inside_longer(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(
        other_start <= start and end <= other_end and (other_start, other_end) != span
        for other_start, other_end in spans
    )


def find_datetimes(text: str, reference: datetime) -> set[str]:
    """Return the distinct dates and times named in text, as ISO 8601 text.

    Relative expressions ("tomorrow", "next Tuesday") are resolved against
    `reference`, taken as UTC when naive, and prefer the future. A month or
    year alone is no date. A date spoken without a time is returned as a date.
    """
    # NOTE: the callee's time zone is unknown, so "tomorrow" is counted from
    # the reference's UTC date and times are returned as spoken, without an
    # offset. Near midnight UTC a relative day can be off by one.
    base = reference
    if reference.tzinfo is not None:
        base = reference.astimezone(UTC).replace(tzinfo=None)
    settings: dict[str, Any] = {
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
    }
    matches = search_dates(text, languages=DATE_LANGUAGES, settings=settings)
    parser = DateDataParser(
        languages=DATE_LANGUAGES, settings={**settings, "RETURN_TIME_AS_PERIOD": True}
    )

    found: set[str] = set()
    for matched_text, _ in matches or []:
        if not _may_be_date(matched_text):
            continue
        data = parser.get_date_data(matched_text)
        if data.date_obj is None or data.period not in ("time", "day", "week"):
            continue
        if data.period == "time":
            found.add(data.date_obj.isoformat())
        else:
            found.add(data.date_obj.date().isoformat())
    return found


def _may_be_date(matched_text: str) -> bool:
    text = re.sub(r"^(?:on|at|in|by)\s+", "", matched_text.strip().lower())
    if text in NOT_DATES:
        return False
    return any(char.isdigit() for char in text) or len(text) >= MIN_DATE_WORD_LENGTH
