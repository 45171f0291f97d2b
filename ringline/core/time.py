"""One clock and one timestamp format for the whole service."""

from datetime import UTC, datetime

TIMESTAMP_FORMAT = "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ"


def utc_now() -> datetime:
    """Return the current time in UTC, truncated to milliseconds as it is stored."""
    return truncate_to_ms(datetime.now(UTC))


def truncate_to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def format_timestamp(value: datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 UTC with milliseconds and `Z`."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # %-formatting of the fields took a fifth of the time of strftime.
    return TIMESTAMP_FORMAT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 1000,
    )
