"""Error responses listed in the OpenAPI document of each route."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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

# Signed recording links work without an API key.
KEYLESS_PATHS = "/v1/recordings/"


PAGING_PARAMETERS = (
    ("page", "Page number from 1 (default 1)."),
    ("limit", "Items per page, 1 to 100 (default 20)."),
    ("cursor", "The next_cursor of a previous page; not with page."),
    ("include_total", "false skips counting; total and totalPages are then null."),
)


def query_parameters(*described: tuple[str, str]) -> list[dict[str, Any]]:
    """Describe optional string query parameters for openapi_extra."""
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": {"type": "string"},
        }
        for name, description in described
    ]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


def install_openapi(app: FastAPI) -> None:
    """Describe bearer-key authentication and drop FastAPI's 422 responses, which
    the API never sends: validation errors are 400 in the error body."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
                if path.startswith("/v1/") and not path.startswith(KEYLESS_PATHS):
                    operation["security"] = [{"apiKey": []}]
        components = schema.setdefault("components", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.get("schemas", {}).pop(name, None)
        components["securitySchemes"] = {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "The whole key, `<key_id>:<secret>`.",
            }
        }
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
