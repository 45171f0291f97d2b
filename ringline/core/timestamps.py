"""Parsing of client-supplied timestamps, dates and time zones."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
# A `+` of an offset that the client did not URL-encode arrives as a space.
DECODED_PLUS_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ][\d:.,]+) (\d{2}(:?\d{2})?)$")
PHONE_LIKE = re.compile(r"^[+ ]\d[\d\s().-]{6,}$|^\d{10,15}$")
# Stored timestamps stay within four-digit years, so their text sorts in order.
MIN_YEAR = 1900
MAX_YEAR = 9998
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}")
TIMESTAMP_EXAMPLE = "2026-11-30T14:00:00Z or 2026-11-30"


class TimestampError(ValueError):
    """A client value is not a timestamp; the message explains what is expected."""


@dataclass(frozen=True, slots=True)
class Instant:
    """A parsed bound: the instant, and whether the value was a whole day."""

    value: datetime
    is_date: bool


def parse_zone(name: str) -> ZoneInfo:
    try:
        if len(name) > 64 or not ZONE_NAME.fullmatch(name):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TimestampError(
            f"timezone must be an IANA zone name such as America/New_York "
            f"(got {name[:64]!r})"
        ) from None


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def parse_bound(field: str, raw: str, zone: ZoneInfo, end_of_day: bool) -> Instant:
    """Parse a timestamp or a date for a lower or upper bound.

    A date alone is the whole day in `zone`: as a lower bound its first instant,
    as an upper bound the first instant of the next day (to be used exclusively).
    A timestamp without an offset is UTC.
    """
    # Named in UTC, because a date at the edge of the range may cross it only
    # when its day is read in another zone (to=9998-12-31&timezone=Etc/GMT+12).
    out_of_range = TimestampError(
        f"{field} must be between the years {MIN_YEAR} and {MAX_YEAR} in UTC "
        f"(got {raw[:40]!r})"
    )
    try:
        instant = _parse_bound(field, raw, zone, end_of_day)
    except OverflowError:
        raise out_of_range from None
    if not MIN_YEAR <= instant.value.year <= MAX_YEAR:
        raise out_of_range
    return instant


def _parse_bound(field: str, raw: str, zone: ZoneInfo, end_of_day: bool) -> Instant:
    # RFC 3339 allows a lowercase t and z, which fromisoformat does not.
    value = raw.strip().upper()
    plus_fixed = DECODED_PLUS_OFFSET.match(raw.rstrip().upper())
    if plus_fixed is not None:
        value = f"{plus_fixed.group(1)}+{plus_fixed.group(2)}"

    if DATE_PATTERN.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise TimestampError(
                f"{field} is not a valid date (got {raw[:40]!r}); "
                f"expected for example {TIMESTAMP_EXAMPLE}"
            ) from None
        if end_of_day:
            return Instant(_day_start(day + timedelta(days=1), zone), is_date=True)
        return Instant(_day_start(day, zone), is_date=True)

    try:
        parsed = datetime.fromisoformat(value) if "T" in value or " " in value else None
    except ValueError:
        parsed = None
    if parsed is None or not DATE_PATTERN.match(value):
        raise TimestampError(_not_a_timestamp_message(field, raw))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return Instant(parsed.astimezone(UTC), is_date=False)


def _not_a_timestamp_message(field: str, raw: str, dates_allowed: bool = True) -> str:
    if not dates_allowed:
        return (
            f"{field} must be an ISO 8601 timestamp such as 2026-11-30T14:00:00Z "
            f"(got {raw[:40]!r})"
        )
    message = (
        f"{field} must be an ISO 8601 timestamp or a date, for example "
        f"{TIMESTAMP_EXAMPLE} (got {raw[:40]!r})"
    )
    if field in ("from", "to") and PHONE_LIKE.match(raw.strip()):
        message += f"; to filter by phone number use {field}_number"
    return message


def parse_timestamp(field: str, raw: str) -> datetime:
    """Parse a full timestamp for a stored field; without an offset it is UTC."""
    try:
        instant = parse_bound(field, raw, ZoneInfo("UTC"), end_of_day=False)
    except TimestampError as error:
        if "between the years" in str(error):
            raise
        raise TimestampError(_not_a_timestamp_message(field, raw, False)) from None
    if instant.is_date:
        raise TimestampError(_not_a_timestamp_message(field, raw, False))
    return instant.value
