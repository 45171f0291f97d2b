"""Helpers for building API responses."""

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Request, Response

from ringline.core.pagination import etag_for, etag_matches


def json_response(payload: Any, status_code: int = 200) -> Response:
    return Response(
        content=orjson.dumps(payload),
        status_code=status_code,
        media_type="application/json",
    )


def cacheable_json_response(request: Request, payload: Any) -> Response:
    """Return the payload with an ETag, or 304 with no body when the client's
    If-None-Match already matches it."""
    body = orjson.dumps(payload)
    etag = etag_for(body)
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"etag": etag})
    return Response(content=body, media_type="application/json", headers={"etag": etag})


def query_values(request: Request) -> dict[str, str]:
    """Return the query parameters, a repeated one joined with commas.

    `status=completed&status=busy` then means the same as `status=completed,busy`
    rather than keeping only the last value.
    """
    query = request.scope["query_string"]
    if not query:
        return {}
    # Parsed as Starlette parses request.query_params, without building the
    # multi-dict, which a list request then reads only once.
    values: dict[str, str] = {}
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        values[name] = value if name not in values else f"{values[name]},{value}"
    return values
