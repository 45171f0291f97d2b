"""The error body, request ids and the operational routes."""

from pathlib import Path

import httpx

from ringline.app import create_app
from ringline.core.logging import merge_request_fields
from tests.factories import Api, open_api, settings_for_tests


async def test_unknown_route_uses_error_body(api: Api) -> None:
    response = await api.client.get("/v1/nothing-here")

    assert response.status_code == 404
    assert response.json()["statusCode"] == 404
    assert response.json()["error"] == "Not Found"
    assert response.headers["x-request-id"]


async def test_wrong_method_uses_error_body(api: Api) -> None:
    response = await api.client.delete("/v1/calls")

    assert response.status_code == 405
    assert response.json()["error"] == "Method Not Allowed"


async def test_every_response_has_distinct_request_id(api: Api) -> None:
    first = await api.client.get("/healthz")
    second = await api.client.get("/v1/calls")

    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_server_fault_hides_details(database_url: str, tmp_path: Path) -> None:
    app = create_app(settings_for_tests(database_url, tmp_path))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            response = await client.get("/boom")

    assert response.status_code == 500
    assert response.json() == {
        "statusCode": 500,
        "message": "Internal server error",
        "error": "Internal Server Error",
    }
    assert "secret detail" not in response.text
    assert response.headers["x-request-id"]


async def test_health_ready_and_docs(api: Api) -> None:
    health = await api.client.get("/healthz")
    ready = await api.client.get("/readyz")
    openapi = await api.client.get("/openapi.json")
    docs = await api.client.get("/docs")

    assert health.status_code == 200
    assert ready.json() == {"status": "ready"}
    assert "/v1/calls" in openapi.json()["paths"]
    assert "/v1/calls/{call_id}" in openapi.json()["paths"]
    assert docs.status_code == 200


async def test_readyz_is_503_when_database_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1, so every connection attempt is refused.
    async with open_api("postgresql://postgres@127.0.0.1:1/none", tmp_path) as api:
        ready = await api.client.get("/readyz")
        health = await api.client.get("/healthz")

    assert ready.status_code == 503
    assert ready.json()["message"] == "database is not reachable"
    assert health.status_code == 200


async def test_openapi_lists_auth_and_no_422(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()

    operation = document["paths"]["/v1/calls"]["get"]
    assert "422" not in operation["responses"]
    assert "400" in operation["responses"]
    assert operation["security"] == [{"apiKey": []}]
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


async def test_log_fields_name_the_request(database_url: str, tmp_path: Path) -> None:
    app = create_app(settings_for_tests(database_url, tmp_path))
    line: dict[str, object] = {}

    @app.get("/log-line")
    async def log_line() -> dict[str, bool]:
        line.update(merge_request_fields(None, "info", {"event": "test.line"}))
        return {"ok": True}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/log-line?x=1")
    after = merge_request_fields(None, "info", {"event": "test.after"})

    assert line["request_id"] == response.headers["x-request-id"]
    assert line["method"] == "GET"
    assert line["path"] == "/log-line"
    assert after == {"event": "test.after"}
