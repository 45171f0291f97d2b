"""The request-only route class and reading request headers."""

from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.params import Depends as DependsMarker

from ringline.core.http import RequestOnlyRoute, header


def deny() -> None:
    raise HTTPException(403, "denied by a dependency")


async def plain(request: Request) -> Response:
    return Response(header(request, b"x-note") or "no note")


async def with_parameter(request: Request, value: int) -> Response:
    return Response(str(value))


def build_app(
    router_dependencies: Sequence[DependsMarker] = (),
    include_dependencies: Sequence[DependsMarker] = (),
) -> FastAPI:
    router = APIRouter(
        route_class=RequestOnlyRoute, dependencies=list(router_dependencies)
    )
    router.add_api_route("/plain", plain)
    router.add_api_route("/with-parameter", with_parameter)
    app = FastAPI()
    app.include_router(router, dependencies=list(include_dependencies))
    return app


async def get(app: FastAPI, path: str, **options: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, **options)


async def test_request_only_endpoint_called_directly() -> None:
    route = RequestOnlyRoute("/plain", plain)

    response = await get(build_app(), "/plain", headers={"X-Note": "hello"})

    assert route.get_route_handler() is plain
    assert response.status_code == 200
    assert response.text == "hello"


async def test_router_dependency_still_runs() -> None:
    response = await get(build_app(router_dependencies=[Depends(deny)]), "/plain")

    assert response.status_code == 403


async def test_include_dependency_still_runs() -> None:
    response = await get(build_app(include_dependencies=[Depends(deny)]), "/plain")

    assert response.status_code == 403


async def test_declared_parameter_still_validated() -> None:
    app = build_app()

    good = await get(app, "/with-parameter?value=7")
    bad = await get(app, "/with-parameter?value=seven")

    assert good.text == "7"
    assert bad.status_code == 422


async def test_missing_header_reads_as_none() -> None:
    response = await get(build_app(), "/plain")

    assert response.text == "no note"
