"""The one error family of the API and the handlers that render its body.

Every error response carries {"statusCode", "message", "error"}, whatever raised it.
"""

from http import HTTPStatus

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException


class RinglineError(Exception):
    """Base of every error that the API turns into its error body."""

    status_code = 500

    def __init__(self, message: str | list[str], headers: dict[str, str] | None = None):
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.message = message
        self.headers = headers or {}


class InvalidRequest(RinglineError):
    status_code = 400


class Unauthorized(RinglineError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("API key is missing or invalid")


class PermissionDenied(RinglineError):
    status_code = 403


class NotFound(RinglineError):
    status_code = 404


class Conflict(RinglineError):
    status_code = 409


class PayloadTooLarge(RinglineError):
    status_code = 413


class RateLimited(RinglineError):
    status_code = 429


def error_body(status_code: int, message: str | list[str]) -> bytes:
    return orjson.dumps(
        {
            "statusCode": status_code,
            "message": message,
            "error": HTTPStatus(status_code).phrase,
        }
    )


def error_response(
    status_code: int, message: str | list[str], headers: dict[str, str] | None = None
) -> Response:
    return Response(
        content=error_body(status_code, message),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


async def _handle_ringline_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RinglineError)
    return error_response(exc.status_code, exc.message, exc.headers)


# The detail FastAPI sends when it cannot decode a JSON body (invalid UTF-8, or
# nesting deeper than the decoder allows).
FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"No route matches {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 400 and exc.detail == FASTAPI_BODY_PARSE_ERROR:
        message = "body must be valid JSON in UTF-8, nested less than 900 levels deep"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, getattr(exc, "headers", None))


def _describe_validation_error(error: dict) -> str:
    """Turn one pydantic error into a sentence that names the field."""
    location = [str(part) for part in error.get("loc", ()) if part != "body"]
    if location[:1] in (["query"], ["path"], ["header"]):
        location = location[1:]
    field = ".".join(location) or "body"
    kind = error.get("type", "")
    if kind == "missing":
        return f"{field} is required"
    if kind == "json_invalid":
        reason = error.get("ctx", {}).get("error", "malformed")
        return f"body must be valid JSON ({reason})"
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    input_repr = repr(error.get("input"))
    # Some validators name the received value themselves.
    short = "input" in error and len(input_repr) <= 40 and "(got " not in message
    received = f" (got {input_repr})" if short else ""
    return f"{field}: {message}{received}"


def _content_type_problem(request: Request, errors: list[dict]) -> str | None:
    """Return why the body was not read as JSON, when its media type is not JSON.

    FastAPI parses a body as JSON only when its Content-Type is a JSON type.
    Otherwise it reports the whole body as not an object, without the header.
    """
    if not any(tuple(error.get("loc", ())) == ("body",) for error in errors):
        return None
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return None
    received = f"Content-Type {content_type[:60]!r}" if content_type else "none"
    return (
        f"body must be JSON sent with Content-Type: application/json (got {received})"
    )


async def _handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problem = _content_type_problem(request, list(exc.errors()))
    if problem is not None:
        return error_response(400, problem)
    messages = [_describe_validation_error(error) for error in exc.errors()]
    return error_response(400, messages[0] if len(messages) == 1 else messages)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RinglineError, _handle_ringline_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
