"""One clock and one timestamp format for the whole service."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Return the current time in UTC, truncated to milliseconds as it is stored."""
    return truncate_to_ms(datetime.now(UTC))


def truncate_to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def format_timestamp(value: datetime | None) -> str | None:
    """Format an aware datetime as ISO 8601 UTC with milliseconds and `Z`."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"
