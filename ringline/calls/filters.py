"""Parsing of the List Calls query string into typed filters.

Every malformed value is collected, so one 400 names every wrong parameter.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ringline.calls.enums import (
    STATUS_ALIASES,
    CallDirection,
    CallStatus,
    CallType,
    EndReason,
)
from ringline.core.errors import InvalidRequest
from ringline.core.ids import is_valid_id
from ringline.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_PAGE,
    PaginationError,
    parse_bool,
    parse_positive_int,
)
from ringline.core.time import format_timestamp, truncate_to_ms
from ringline.core.timestamps import TimestampError, parse_bound, parse_zone

MAX_LIST_VALUES = 100
E164_PATTERN = re.compile(r"\+[1-9]\d{6,14}")
PHONE_SEPARATORS = re.compile(r"[\s().-]")


@dataclass(frozen=True, slots=True)
class CallFilters:
    """Filters of a call list; None means not filtered, a tuple is OR of values."""

    agent_ids: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None  # exclusive
    call_ids: tuple[str, ...] | None = None
    batch_call_ids: tuple[str, ...] | None = None
    call_directions: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    end_reasons: tuple[str, ...] | None = None
    from_number: str | None = None
    to_number: str | None = None
    # Call log filters.
    sentiments: tuple[str, ...] | None = None
    duration_min_ms: int | None = None
    duration_max_ms: int | None = None
    search_words: tuple[str, ...] | None = None

    def fingerprint_parts(self) -> dict[str, object]:
        # A shallow copy: dataclasses.asdict deep-copies every tuple, which
        # cost 60 µs per list request.
        parts = {name: getattr(self, name) for name in self.__slots__}
        parts["created_from"] = format_timestamp(self.created_from)
        parts["created_before"] = format_timestamp(self.created_before)
        return parts


def split_values(name: str, raw: str) -> tuple[str, ...]:
    values = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
    if len(values) > MAX_LIST_VALUES:
        raise ValueError(
            f"{name} accepts at most {MAX_LIST_VALUES} comma-separated values "
            f"(got {len(values)})"
        )
    return values


def parse_ids(name: str, raw: str) -> tuple[str, ...]:
    values = split_values(name, raw)
    for value in values:
        if not is_valid_id(value):
            raise ValueError(
                f"{name} must be ids of letters, digits, '_' and '-', at most 64 "
                f"characters each (got {value[:70]!r})"
            )
    return values


def _parse_choices(name: str, raw: str, choices: list[str]) -> tuple[str, ...]:
    values = tuple(value.lower() for value in split_values(name, raw))
    unknown = [value for value in values if value not in choices]
    if unknown:
        raise ValueError(
            f"{name} has unknown value {unknown[0][:40]!r}; "
            f"accepted values: {', '.join(choices)}"
        )
    return values


def parse_statuses(raw: str) -> tuple[str, ...]:
    accepted = [status.value for status in CallStatus] + list(STATUS_ALIASES)
    statuses: dict[str, None] = {}
    for value in _parse_choices("status", raw, accepted):
        expanded = STATUS_ALIASES.get(value) or (CallStatus(value),)
        for status in expanded:
            statuses[status.value] = None
    return tuple(statuses)


def parse_phone_number(name: str, raw: str) -> str:
    # A `+` that the client did not URL-encode arrives as a leading space.
    value = PHONE_SEPARATORS.sub("", raw)
    if raw.startswith(" ") and not value.startswith("+"):
        value = "+" + value
    if not E164_PATTERN.fullmatch(value):
        raise ValueError(
            f"{name} must be a phone number in E.164 form such as +14155550123 "
            f"(got {raw[:30]!r})"
        )
    return value


def choices_parser(name: str, enum: type) -> Callable[[str], tuple[str, ...]]:
    return lambda raw: _parse_choices(name, raw, [member.value for member in enum])


VALUE_PARSERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "agent_id": ("agent_ids", lambda raw: parse_ids("agent_id", raw)),
    "status": ("statuses", parse_statuses),
    "call_id": ("call_ids", lambda raw: parse_ids("call_id", raw)),
    "batch_call_id": ("batch_call_ids", lambda raw: parse_ids("batch_call_id", raw)),
    "call_direction": (
        "call_directions",
        choices_parser("call_direction", CallDirection),
    ),
    "type": ("types", choices_parser("type", CallType)),
    "end_reason": ("end_reasons", choices_parser("end_reason", EndReason)),
    "from_number": ("from_number", lambda raw: parse_phone_number("from_number", raw)),
    "to_number": ("to_number", lambda raw: parse_phone_number("to_number", raw)),
}


def parse_created_range(
    params: Mapping[str, str],
    errors: list[str],
    names: tuple[str, str] = ("from", "to"),
) -> dict[str, datetime]:
    zone = ZoneInfo("UTC")
    if params.get("timezone"):
        try:
            zone = parse_zone(params["timezone"].strip())
        except TimestampError as error:
            # from and to are still checked, read in UTC, so every error is listed.
            errors.append(str(error))

    bounds: dict[str, datetime] = {}
    # The instants as given, before rounding to stored milliseconds, since two
    # bounds within one millisecond are an empty range, not an inverted one.
    requested: dict[str, datetime] = {}
    lower, upper = names
    for name, key, end_of_day in (
        (lower, "created_from", False),
        (upper, "created_before", True),
    ):
        if not params.get(name):
            continue
        try:
            instant = parse_bound(name, params[name], zone, end_of_day)
        except TimestampError as error:
            errors.append(str(error))
            continue
        value = instant.value
        requested[key] = value
        if end_of_day and instant.is_date:
            requested[key] = value - timedelta(microseconds=1)  # value is exclusive
        if not end_of_day and value.microsecond % 1000:
            # Stored times have millisecond precision: a lower bound between two
            # milliseconds starts at the next one.
            value = truncate_to_ms(value) + timedelta(milliseconds=1)
        if end_of_day and not instant.is_date:
            # Stored times have millisecond precision, so "at or before `to`" is
            # "before the next millisecond", which keeps one exclusive bound.
            value = truncate_to_ms(value) + timedelta(milliseconds=1)
        bounds[key] = value
    range_error = _check_range(params, requested, names)
    if range_error:
        errors.append(range_error)
    return bounds


def _check_range(
    params: Mapping[str, str],
    bounds: dict[str, datetime],
    names: tuple[str, str] = ("from", "to"),
) -> str | None:
    low, high = bounds.get("created_from"), bounds.get("created_before")
    if low is None or high is None or low <= high:
        return None
    lower, upper = names
    return f"{lower} ({params[lower]}) must not be later than {upper} ({params[upper]})"


def parse_values(
    params: Mapping[str, str],
    parsers: Mapping[str, tuple[str, Callable[[str], Any]]],
    errors: list[str],
) -> dict[str, Any]:
    """Parse each parameter named in parsers into its field, appending a message
    to errors for each bad one; absent and empty parameters are left out."""
    values: dict[str, Any] = {}
    for name, (field, parse) in parsers.items():
        raw = params.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            parsed = parse(raw)
        except ValueError as error:
            errors.append(str(error))
            continue
        # Only commas (status=,,) name no value, so the filter is left out, as
        # an empty parameter is.
        if parsed != ():
            values[field] = parsed
    return values


def parse_call_filters(params: Mapping[str, str], errors: list[str]) -> CallFilters:
    """Parse the filter parameters, appending a message to errors for each bad one."""
    values = parse_values(params, VALUE_PARSERS, errors)
    bounds = parse_created_range(params, errors)
    values.update(bounds)
    return CallFilters(**values)  # type: ignore[arg-type]


def parse_paging(params: Mapping[str, str], errors: list[str]) -> tuple[int, int, bool]:
    """Parse page, limit and include_total; a cursor is decoded by the caller."""
    parsed: list[object] = []
    for parse in (
        lambda: parse_positive_int("page", params.get("page"), 1, MAX_PAGE),
        lambda: parse_positive_int(
            "limit", params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT
        ),
        lambda: parse_bool("include_total", params.get("include_total"), True),
    ):
        try:
            parsed.append(parse())
        except PaginationError as error:
            errors.append(str(error))
            parsed.append(None)
    if params.get("cursor") is not None and params.get("page") is not None:
        errors.append("cursor and page cannot be combined; pass one of them")
    page, limit, include_total = parsed
    return page, limit, include_total  # type: ignore[return-value]


def raise_if_errors(errors: list[str]) -> None:
    if errors:
        raise InvalidRequest(errors[0] if len(errors) == 1 else errors)
