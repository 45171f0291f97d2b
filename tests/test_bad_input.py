"""No query string, header or path a client can send gets a 500."""

import random
import string

import pytest

from tests.factories import Api

PARAMETERS = [
    "agent_id",
    "status",
    "from",
    "to",
    "timezone",
    "call_id",
    "batch_call_id",
    "call_direction",
    "type",
    "end_reason",
    "from_number",
    "to_number",
    "page",
    "limit",
    "cursor",
    "include_total",
]
NASTY_VALUES = [
    "",
    " ",
    "%00",
    "%FF%FE",
    "%C0%AF",
    "%E2%80%AE",
    "'; DROP TABLE calls; --",
    "%25",
    "+",
    "++",
    ",",
    ",,,",
    "-1",
    "1e9",
    "NaN",
    "null",
    "[]",
    "{}",
    "9" * 400,
    "a" * 5000,
    "2026-02-30",
    "2026-11-20T24:00:00Z",
    "2026-11-20T10:00:00+25:00",
    "2026-11-20T10:00:00 99:99",
    "9999-12-31T23:59:59.999999-23:59",
    "0000-00-00",
    "Etc/GMT+99",
    "UTC",
    "../",
    "\\x00",
    "%F0%9F%93%9E",
    "+1%20555%20010%200100",
]


def random_value(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(NASTY_VALUES)
    alphabet = string.printable + "é漢字\u202e"
    raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    return "".join(
        char if char.isalnum() else f"%{ord(char) % 256:02X}" for char in raw
    )


async def test_random_query_strings_never_500(api: Api) -> None:
    workspace = await api.workspace()
    await api.seed(workspace, [{}, {"status": "busy"}])
    rng = random.Random(20261204)

    statuses = []
    for _ in range(400):
        pairs = [
            f"{rng.choice(PARAMETERS)}={random_value(rng)}"
            for _ in range(rng.randint(1, 4))
        ]
        response = await api.get("/v1/calls?" + "&".join(pairs), workspace)
        statuses.append((response.status_code, pairs))
        if response.status_code != 200:
            assert set(response.json()) == {"statusCode", "message", "error"}

    assert [entry for entry in statuses if entry[0] >= 500] == []
    assert {code for code, _ in statuses} <= {200, 400}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/calls/%FF",
        "/v1/calls/%00",
        "/v1/calls/..%2F..%2Fetc",
        "/v1/calls/" + "x" * 3000,
        "/v1/calls/call_%E2%80%AE",
        "/v1/calls//",
        "/v1/calls/%20",
        "/v1//calls",
    ],
)
async def test_odd_paths_never_500(api: Api, path: str) -> None:
    workspace = await api.workspace()

    response = await api.get(path, workspace)

    assert response.status_code in (307, 400, 404, 405)
    if response.status_code != 307:
        assert response.json()["statusCode"] == response.status_code


@pytest.mark.parametrize(
    "headers",
    [
        [(b"authorization", b"Bearer \xff\xfe:\x00")],
        [(b"authorization", "Bearer ключ:секрет".encode())],
        [(b"authorization", b"Bearer a" * 2000)],
        [(b"authorization", b"bearer"), (b"authorization", b"bearer")],
        [(b"if-none-match", b"\xff" * 100)],
        [(b"content-length", b"abc")],
    ],
)
async def test_odd_headers_never_500(
    api: Api, headers: list[tuple[bytes, bytes]]
) -> None:
    response = await api.client.get("/v1/calls", headers=headers)

    assert response.status_code in (400, 401, 413)


async def test_chunked_body_over_limit_is_413(api: Api) -> None:
    workspace = await api.workspace()

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65_536

    response = await api.client.post(
        "/v1/calls", content=chunks(), headers=workspace.headers()
    )
    count = (await api.get("/v1/calls", workspace)).json()["meta"]["total"]

    assert response.status_code == 413
    assert "at most" in response.json()["message"]
    assert count == 0
