"""structlog setup: JSON lines in production, readable lines in development."""

import logging
import sys
from contextvars import ContextVar
from typing import Any

import structlog

# The fields of the request being served (request_id, method, path), added to
# every log line written while it is served. The middleware sets this one
# variable per request, where binding each field through structlog.contextvars
# set three variables and then had to clear them.
REQUEST_FIELDS: ContextVar[dict[str, Any] | None] = ContextVar(
    "ringline_request_fields", default=None
)


def merge_request_fields(
    logger: Any, method_name: str, event_dict: dict[str, Any]
) -> dict[str, Any]:
    """Add the fields of the request being served to a log line (a processor)."""
    fields = REQUEST_FIELDS.get()
    if fields is not None:
        for name, value in fields.items():
            event_dict.setdefault(name, value)
    return event_dict


def configure_logging(level: str = "info", json_lines: bool = False) -> None:
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        merge_request_fields,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json_lines:
        processors += [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    else:
        processors.append(
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
