"""Error responses listed in the OpenAPI document of each route."""

from typing import Any

from ringline.calls.schemas import ErrorBody

ERROR_DESCRIPTIONS = {
    400: "A query, path or body value is malformed.",
    401: "API key is missing or invalid.",
    403: "The key lacks the permission this endpoint needs.",
    404: "Not found in the key's workspace.",
    409: "The object's state forbids the action, or an idempotency key was "
    "reused with another body.",
    413: "The request body is larger than the configured limit.",
    429: "Rate limit exceeded; see Retry-After.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }
