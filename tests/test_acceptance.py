"""The real `ringline` command: migrate, create, import, serve and query over HTTP."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

RINGLINE = [sys.executable, "-m", "ringline"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str, workdir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RINGLINE_")
    }
    env["RINGLINE_DATABASE_URL"] = database_url
    env["RINGLINE_LOG_LEVEL"] = "warning"
    return env


def ringline(
    workdir: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*RINGLINE, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def migrated_workspace_key(workdir: Path, env: dict[str, str]) -> str:
    """Migrate, create a workspace with the CLI and return a new key of it."""
    assert ringline(workdir, env, "migrate").returncode == 0
    workspace = ringline(workdir, env, "workspaces", "create", "Acme").stdout.strip()
    return ringline(
        workdir, env, "keys", "create", "--workspace", workspace
    ).stdout.strip()


def wait_until_ready(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited early"
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not become ready within 30 seconds")


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Start `ringline serve` on a free port after the test arranged the data."""
    servers: list[subprocess.Popen] = []
    env = environment(database_url, tmp_path)

    def start() -> tuple[str, subprocess.Popen]:
        port = free_port()
        server = subprocess.Popen(
            [*RINGLINE, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        servers.append(server)
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, server)
        return base_url, server

    yield start, env  # type: ignore[misc]
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def test_cli_import_then_query_over_http(tmp_path: Path, served) -> None:  # type: ignore[no-untyped-def]
    start, env = served
    assert ringline(tmp_path, env, "migrate").returncode == 0
    workspace = ringline(tmp_path, env, "workspaces", "create", "Acme").stdout.strip()
    key = ringline(
        tmp_path, env, "keys", "create", "--workspace", workspace
    ).stdout.strip()
    agent = ringline(
        tmp_path,
        env,
        "agents",
        "create",
        "--workspace",
        workspace,
        "--title",
        "Reminders",
        "--publish",
    ).stdout.strip()
    history = tmp_path / "calls.csv"
    history.write_text(
        "id,agent_id,from_phone_number,to_phone_number,status,end_reason,created_at\n"
        f"call_accept00000000000001,{agent},+15550100100,+15550100199,completed,"
        "agent_disconnected,2026-11-01T00:00:00Z\n"
        f"call_accept00000000000002,{agent},+15550100100,+15550100198,busy,"
        "user_busy,2026-11-30T23:59:59Z\n"
        f"call_accept00000000000003,{agent},+15550100100,+15550100197,busy,"
        "user_busy,2026-12-01T00:00:01Z\n"
        f"call_accept00000000000004,agent_nope00000000000000,+15550100100,+1555,weird,,x\n"
    )

    imported = ringline(
        tmp_path, env, "calls", "import", "--workspace", workspace, str(history)
    )
    base_url, _ = start()
    response = httpx.get(
        f"{base_url}/v1/calls?from=2026-11-01&to=2026-11-30",
        headers={"Authorization": f"Bearer {key}"},
    )
    exported = ringline(
        tmp_path, env, "calls", "export", "--workspace", workspace, "--status", "busy"
    )

    assert re.fullmatch(r"ws_[0-9a-z]{20}", workspace)
    assert re.fullmatch(r"[0-9a-z]{14}:\S{32,}", key)
    assert imported.returncode == 1
    assert "loaded 3 rows, rejected 1 rows" in imported.stdout
    assert "row 4:" in imported.stderr
    assert "is not an agent of this workspace" in imported.stderr
    assert response.status_code == 200
    assert [call["id"] for call in response.json()["data"]] == [
        "call_accept00000000000002",
        "call_accept00000000000001",
    ]
    assert exported.returncode == 0
    assert len(exported.stdout.splitlines()) == 2


def test_first_serve_prints_a_working_key(tmp_path: Path, served) -> None:  # type: ignore[no-untyped-def]
    start, _ = served

    base_url, server = start()
    # The first key is printed before the server starts listening.
    first_lines = []
    while not any("curl" in line for line in first_lines):
        first_lines.append(server.stdout.readline())
    key = re.search(r"Bearer ([0-9a-z]{14}:\S+)\"", "".join(first_lines)).group(1)
    response = httpx.get(
        f"{base_url}/v1/calls", headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 200
    assert response.json()["data"] == []


def test_keys_list_and_revoke(tmp_path: Path, database_url: str) -> None:
    env = environment(database_url, tmp_path)
    workspace = ringline(tmp_path, env, "workspaces", "create", "Acme").stdout.strip()
    key = ringline(
        tmp_path,
        env,
        "keys",
        "create",
        "--workspace",
        workspace,
        "--permissions",
        "calls:read",
    ).stdout.strip()
    key_id = key.split(":")[0]

    revoked = ringline(tmp_path, env, "keys", "revoke", key_id)
    listed = ringline(tmp_path, env, "keys", "list", "--workspace", workspace)
    bad_permission = ringline(
        tmp_path,
        env,
        "keys",
        "create",
        "--workspace",
        workspace,
        "--permissions",
        "calls:delete",
    )

    assert revoked.returncode == 0
    assert key_id in listed.stdout
    assert "revoked" in listed.stdout
    assert "calls:read" in listed.stdout
    assert key.split(":")[1] not in listed.stdout
    assert bad_permission.returncode == 1
    assert "unknown permission calls:delete" in bad_permission.stderr


def test_production_refuses_to_start_without_secret(
    tmp_path: Path, database_url: str
) -> None:
    env = environment(database_url, tmp_path) | {"RINGLINE_ENV": "production"}

    result = ringline(tmp_path, env, "serve", "--port", str(free_port()))

    assert result.returncode == 2
    assert "RINGLINE_SECRET_KEY is required" in result.stderr


def test_unusable_public_url_refused(tmp_path: Path, database_url: str) -> None:
    env = environment(database_url, tmp_path) | {
        "RINGLINE_PUBLIC_URL": "ftp://ringline.example.com"
    }

    result = ringline(tmp_path, env, "migrate")

    assert result.returncode == 2
    assert "RINGLINE_PUBLIC_URL" in result.stderr
    assert "must be an http:// or https:// address" in result.stderr


def test_cli_rejects_unusable_input(tmp_path: Path, database_url: str) -> None:
    env = environment(database_url, tmp_path)
    workspace = ringline(tmp_path, env, "workspaces", "create", "Acme").stdout.strip()
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    utf16 = tmp_path / "calls.csv"
    utf16.write_text("agent_id,status\n", encoding="utf-16")

    empty_import = ringline(
        tmp_path, env, "calls", "import", "--workspace", workspace, str(empty)
    )
    utf16_import = ringline(
        tmp_path, env, "calls", "import", "--workspace", workspace, str(utf16)
    )
    no_permissions = ringline(
        tmp_path, env, "keys", "create", "--workspace", workspace, "--permissions", ""
    )
    past_expiry = ringline(
        tmp_path,
        env,
        "keys",
        "create",
        "--workspace",
        workspace,
        "--expires-at",
        "2020-01-01T00:00:00Z",
    )
    bad_port = ringline(tmp_path, env, "serve", "--port", "99999")

    assert empty_import.returncode == 2
    assert "the file is empty" in empty_import.stderr
    assert utf16_import.returncode == 2
    assert "is not UTF-8 text" in utf16_import.stderr
    assert no_permissions.returncode == 1
    assert "permissions is empty" in no_permissions.stderr
    assert past_expiry.returncode == 1
    assert "must be in the future" in past_expiry.stderr
    assert bad_port.returncode == 2


def test_agents_publish_command(tmp_path: Path, database_url: str) -> None:
    env = environment(database_url, tmp_path)
    workspace = ringline(tmp_path, env, "workspaces", "create", "Acme").stdout.strip()
    agent = ringline(
        tmp_path, env, "agents", "create", "--workspace", workspace, "--title", "Draft"
    ).stdout.strip()
    history = tmp_path / "calls.jsonl"
    history.write_text(
        f'{{"agent_id": "{agent}", "from_phone_number": "+15550100100", '
        '"to_phone_number": "+15550100199", "status": "busy"}\n'
    )

    before = ringline(
        tmp_path, env, "calls", "import", "--workspace", workspace, str(history)
    )
    published = ringline(
        tmp_path, env, "agents", "publish", "--workspace", workspace, agent
    )
    after = ringline(
        tmp_path, env, "calls", "import", "--workspace", workspace, str(history)
    )

    assert before.returncode == 1
    assert "ringline agents publish" in before.stderr
    assert published.returncode == 0
    assert "published version 1" in published.stderr
    assert after.returncode == 0
    assert "loaded 1 rows" in after.stdout


def test_revoked_key_stops_working_on_running_server(tmp_path: Path, served) -> None:  # type: ignore[no-untyped-def]
    start, env = served
    key = migrated_workspace_key(tmp_path, env)
    base_url, _ = start()
    headers = {"Authorization": f"Bearer {key}"}
    before = httpx.get(f"{base_url}/v1/calls", headers=headers)

    revoked = ringline(tmp_path, env, "keys", "revoke", key.split(":")[0])
    after = [httpx.get(f"{base_url}/v1/calls", headers=headers) for _ in range(3)]

    assert before.status_code == 200
    assert revoked.returncode == 0
    assert [response.status_code for response in after] == [401, 401, 401]


UNPARSABLE_REQUESTS = [
    b"GET /v1/calls HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    b"GET /v1/calls HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n",
    b"NOT-HTTP\r\n\r\n",
    b"POST /v1/calls HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\n{}\r\n0\r\n\r\n",
]


def raw_exchange(base_url: str, request: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_unparsable_request_gets_the_error_body(served) -> None:  # type: ignore[no-untyped-def]
    start, _ = served
    base_url, _ = start()

    answers = [raw_exchange(base_url, request) for request in UNPARSABLE_REQUESTS]

    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b"content-type: application/json" in head.lower()
        parsed = json.loads(body)
        assert parsed["statusCode"] == 400
        assert parsed["error"] == "Bad Request"
        assert "not valid HTTP/1.1" in parsed["message"]
        assert b"x-request-id: " in head


def test_stalled_body_gets_408_and_closes(served) -> None:  # type: ignore[no-untyped-def]
    start, env = served
    env["RINGLINE_BODY_TIMEOUT_SECONDS"] = "1"
    base_url, _ = start()
    stalled = (
        b"POST /v1/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n" + b'{"to_number": '
    )

    started = time.monotonic()
    answer = raw_exchange(base_url, stalled)
    took = time.monotonic() - started
    later = httpx.get(f"{base_url}/healthz")

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    assert json.loads(body)["message"] == (
        "request body timed out: the whole body must arrive within 1 s"
    )
    assert 1 <= took < 4
    assert later.status_code == 200


def test_oversized_head_gets_431(served) -> None:  # type: ignore[no-untyped-def]
    start, _ = served
    base_url, _ = start()
    request = b"GET /v1/calls HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 70_000

    answer = raw_exchange(base_url, request)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert json.loads(body)["message"].endswith("at most 65536 bytes")


def test_stalled_head_gets_408(served) -> None:  # type: ignore[no-untyped-def]
    start, env = served
    env["RINGLINE_HEADER_TIMEOUT_SECONDS"] = "1"
    base_url, _ = start()

    started = time.monotonic()
    answer = raw_exchange(base_url, b"GET /v1/ca")
    took = time.monotonic() - started

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert "headers timed out" in json.loads(body)["message"]
    assert 1 <= took < 4


def test_websocket_upgrade_served_as_http(served) -> None:  # type: ignore[no-untyped-def]
    start, _ = served
    base_url, _ = start()
    request = (
        b"GET /v1/calls HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )

    answer = raw_exchange(base_url, request)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 ")
    assert json.loads(body)["statusCode"] == 401


def test_pipelined_requests_answered_before_the_400(served) -> None:  # type: ignore[no-untyped-def]
    start, _ = served
    base_url, _ = start()
    valid = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

    answer = raw_exchange(base_url, valid + valid + b"NOT-HTTP\r\n\r\n")

    statuses = re.findall(rb"HTTP/1.1 (\d{3}) ", answer)
    assert statuses == [b"200", b"200", b"400"]


def test_stalled_cancel_body_blocks_no_writes(tmp_path: Path, served) -> None:  # type: ignore[no-untyped-def]
    start, env = served
    env["RINGLINE_BODY_TIMEOUT_SECONDS"] = "3"
    key = migrated_workspace_key(tmp_path, env)
    base_url, _ = start()
    host, port = base_url.removeprefix("http://").split(":")
    stalled = (
        f"POST /v1/calls/call_x/cancel HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: 100\r\n\r\n{{"
    ).encode()

    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(stalled)
        time.sleep(0.3)
        started = time.monotonic()
        created = httpx.post(
            f"{base_url}/v1/agents",
            json={"title": "Reminders"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        took = time.monotonic() - started

    assert created.status_code == 201, created.text
    assert took < 2
