"""Parsing of the List Call Logs query string into filters and a sort.

Every malformed value is collected, so one 400 names every wrong parameter.
"""

import re
from collections.abc import Mapping

from ringline.calls.enums import Sentiment
from ringline.calls.filters import (
    VALUE_PARSERS,
    CallFilters,
    choices_parser,
    parse_created_range,
    parse_values,
)

MAX_SEARCH_WORDS = 16
MAX_WORD_LENGTH = 64
MAX_DURATION_SECONDS = 10**7
WORD = re.compile(r"\w+")
SORT_PARAMETERS = ("created_at", "duration")
SORT_DIRECTIONS = ("asc", "desc")
LOG_VALUE_PARSERS = {
    name: VALUE_PARSERS[name]
    for name in ("agent_id", "status", "batch_call_id", "end_reason")
}
LOG_VALUE_PARSERS["sentiment"] = ("sentiments", choices_parser("sentiment", Sentiment))


def parse_log_filters(params: Mapping[str, str], errors: list[str]) -> CallFilters:
    """Parse the call log filters, appending a message to errors for each bad one."""
    values = parse_values(params, LOG_VALUE_PARSERS, errors)
    values.update(parse_created_range(params, errors, ("start_date", "end_date")))
    values.update(_parse_durations(params, errors))
    words = _parse_search(params.get("q"), errors)
    if words:
        values["search_words"] = words
    return CallFilters(**values)  # type: ignore[arg-type]


def _parse_durations(params: Mapping[str, str], errors: list[str]) -> dict[str, int]:
    """Return the duration bounds in milliseconds.

    Durations are shown rounded to whole seconds, halves up, so a bound of N
    seconds takes in every duration shown as N.
    """
    bounds: dict[str, int] = {}
    for name, key in (
        ("duration_min", "duration_min_ms"),
        ("duration_max", "duration_max_ms"),
    ):
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_DURATION_SECONDS:
            errors.append(
                f"{name} must be a whole number of seconds from 0 to "
                f"{MAX_DURATION_SECONDS} (got {raw[:20]!r})"
            )
            continue
        seconds = int(raw)
        bounds[key] = (
            max(0, seconds * 1000 - 500)
            if key == "duration_min_ms"
            else (seconds * 1000 + 499)
        )
    low, high = bounds.get("duration_min_ms"), bounds.get("duration_max_ms")
    if low is not None and high is not None and low > high:
        errors.append(
            f"duration_min ({params['duration_min'].strip()}) must not be more than "
            f"duration_max ({params['duration_max'].strip()})"
        )
    return bounds


def _parse_search(raw: str | None, errors: list[str]) -> tuple[str, ...] | None:
    if raw is None or not raw.strip():
        return None
    words = tuple(dict.fromkeys(word.lower() for word in WORD.findall(raw)))
    if not words:
        errors.append(f"q must contain at least one word (got {raw[:40]!r})")
    elif len(words) > MAX_SEARCH_WORDS:
        errors.append(f"q accepts at most {MAX_SEARCH_WORDS} words (got {len(words)})")
    elif any(len(word) > MAX_WORD_LENGTH for word in words):
        errors.append(f"q words must be at most {MAX_WORD_LENGTH} characters long")
    return words


def parse_sort(params: Mapping[str, str], errors: list[str]) -> str:
    """Return the list order: created_at=asc|desc or duration=asc|desc."""
    present = [name for name in SORT_PARAMETERS if params.get(name) is not None]
    if len(present) > 1:
        errors.append("sort by created_at or by duration, not both")
        return "created_at:desc"
    if not present:
        return "created_at:desc"
    name = present[0]
    direction = params[name].strip().lower()
    if direction not in SORT_DIRECTIONS:
        errors.append(f"{name} must be asc or desc (got {params[name][:20]!r})")
        return "created_at:desc"
    return f"{name}:{direction}"
