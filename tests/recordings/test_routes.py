"""GET /v1/calls/{id}/recording: the recording to a key with calls:read."""

from pathlib import Path

from tests.factories import Api
from tests.recordings.helpers import seed_recorded_call, set_recording_path


async def test_recording_streams_wav_to_reader(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    reader = await api.key(workspace, permissions=["calls:read"])
    call_id, data = await seed_recorded_call(api, workspace, recordings_dir)

    response = await api.get(
        f"/v1/calls/{call_id}/recording",
        headers={"Authorization": f"Bearer {reader}"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(data))
    assert response.content == data


async def test_call_without_recording_is_404(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [{}])

    response = await api.get(f"/v1/calls/{call_id}/recording", workspace)

    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "message": f"call {call_id} has no recording",
        "error": "Not Found",
    }


async def test_unknown_call_recording_is_404(api: Api) -> None:
    workspace = await api.workspace()

    response = await api.get("/v1/calls/call_doesnotexist000000/recording", workspace)

    assert response.status_code == 404
    assert response.json()["message"] == "call call_doesnotexist000000 not found"
    assert response.json()["error"] == "Not Found"


async def test_foreign_call_recording_is_404(api: Api, recordings_dir: Path) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    their_call, _ = await seed_recorded_call(api, theirs, recordings_dir)

    response = await api.get(f"/v1/calls/{their_call}/recording", mine)

    assert response.status_code == 404
    assert response.json()["message"] == f"call {their_call} not found"
    assert response.headers["content-type"] == "application/json"


async def test_recording_file_gone_is_404(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [{}])
    await set_recording_path(api, call_id, f"{workspace.id}/{call_id}.wav")

    response = await api.get(f"/v1/calls/{call_id}/recording", workspace)

    assert response.status_code == 404
    assert "missing from storage" in response.json()["message"]


async def test_recording_key_outside_store_is_404(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [{}])
    await set_recording_path(api, call_id, "../secret_key")

    response = await api.get(f"/v1/calls/{call_id}/recording", workspace)

    assert response.status_code == 404
    assert "missing from storage" in response.json()["message"]


async def test_malformed_call_id_is_400(api: Api) -> None:
    workspace = await api.workspace()

    too_long = await api.get("/v1/calls/call_" + "a" * 60 + "/recording", workspace)
    nul = await api.get("/v1/calls/call%00/recording", workspace)

    assert too_long.status_code == 400
    assert "at most 64 characters" in too_long.json()["message"]
    assert nul.status_code == 400
    assert nul.json()["error"] == "Bad Request"


async def test_key_without_calls_read_is_403(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    writer = await api.key(workspace, permissions=["calls:write", "agents:read"])
    call_id, _ = await seed_recorded_call(api, workspace, recordings_dir)

    response = await api.get(
        f"/v1/calls/{call_id}/recording",
        headers={"Authorization": f"Bearer {writer}"},
    )

    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "message": "This API key lacks the calls:read permission",
        "error": "Forbidden",
    }


async def test_recording_without_key_is_401(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, _ = await seed_recorded_call(api, workspace, recordings_dir)

    response = await api.get(f"/v1/calls/{call_id}/recording")

    assert response.status_code == 401
    assert response.json()["message"] == "API key is missing or invalid"


async def test_range_request_returns_206(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, data = await seed_recorded_call(api, workspace, recordings_dir)

    response = await api.get(
        f"/v1/calls/{call_id}/recording",
        workspace,
        headers={"Range": "bytes=100-1099"},
    )

    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    assert response.content == data[100:1100]
