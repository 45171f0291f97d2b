"""Turning call rows into call log objects, by hand as the calls serializers do."""

from collections.abc import Sequence
from typing import Any

import orjson

from ringline.calls.serializers import Linker, call_to_dict, format_timestamp, no_link

# Positions of the analysis columns in a row read with the repository's
# LOG_COLUMNS, after the 19 list columns.
SENTIMENT, SUMMARY, ANALYSIS, ANALYSIS_STATUS, LATENCY_MS = range(19, 24)


def analysis_value(value: dict[str, Any] | str | None) -> Any:
    """Return the analysis object for orjson: stored JSON text is embedded as it
    is, and a call not analysed (yet) has an empty object."""
    # The JSON column stores a missing document as the JSON text null.
    if value is None or value == "null":
        return {}
    if isinstance(value, str):
        return orjson.Fragment(value)
    return value


def call_log_to_dict(row: Sequence[Any], link: Linker = no_link) -> dict[str, Any]:
    """Build the call log object from a row of LOG_COLUMNS."""
    log = call_to_dict(row, link)  # type: ignore[arg-type]
    log["call_id"] = log["id"]
    log["sentiment"] = row[SENTIMENT]
    log["summary"] = row[SUMMARY]
    log["analysis"] = analysis_value(row[ANALYSIS])
    log["analysis_status"] = row[ANALYSIS_STATUS]
    log["latency_ms"] = row[LATENCY_MS]
    return log


def call_log_details_to_dict(
    row: Sequence[Any],
    transcript: str | None,
    segments: list[dict[str, Any]] | str | None,
    timeline: Sequence[tuple[str, Any]],
    link: Linker = no_link,
) -> dict[str, Any]:
    """Build the details object: the call log with its conversation and timeline."""
    log = call_log_to_dict(row, link)
    log["transcript"] = transcript
    if segments is None or segments == "null":
        segments = []
    elif isinstance(segments, str):
        segments = orjson.Fragment(segments)  # type: ignore[assignment]
    log["transcript_segments"] = segments
    log["timeline"] = [
        {"event": event, "timestamp": format_timestamp(at)} for event, at in timeline
    ]
    return log
