"""GET /v1/recordings/{id}: the recording through a signed link, without a key."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ringline.core.time import utc_now
from ringline.dialing.recordings import LocalRecordingStore
from tests.factories import Api
from tests.recordings.helpers import (
    LINKS,
    make_wav,
    seed_recorded_call,
    set_recording_path,
)


def link_for(call_id: str, workspace_id: str, expires_at: datetime) -> str:
    return LINKS.sign(call_id, workspace_id, expires_at)


def query_of(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


async def test_signed_link_serves_without_key(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, data = await seed_recorded_call(api, workspace, recordings_dir)
    link = link_for(call_id, workspace.id, utc_now() + timedelta(hours=1))

    response = await api.get(link)

    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.content == data


async def test_signed_link_range_returns_206(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, data = await seed_recorded_call(api, workspace, recordings_dir)
    link = link_for(call_id, workspace.id, utc_now() + timedelta(hours=1))

    response = await api.get(link, headers={"Range": "bytes=-500"})

    assert response.status_code == 206
    assert response.content == data[-500:]


async def test_expired_link_is_403(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, _ = await seed_recorded_call(api, workspace, recordings_dir)
    expired_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    link = link_for(call_id, workspace.id, expired_at)

    response = await api.get(link)

    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "message": "recording link expired at 2026-01-02T03:04:05.000Z; "
        "fetch the call again for a fresh recording_url",
        "error": "Forbidden",
    }


async def test_tampered_signature_is_403(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, _ = await seed_recorded_call(api, workspace, recordings_dir)
    link = link_for(call_id, workspace.id, utc_now() + timedelta(hours=1))
    signature = query_of(link)["signature"]
    changed = ("B" if signature[0] == "A" else "A") + signature[1:]

    response = await api.get(link.replace(signature, changed))

    assert response.status_code == 403
    assert "signature does not match" in response.json()["message"]
    assert response.json()["error"] == "Forbidden"


async def test_extended_expiry_is_403(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, _ = await seed_recorded_call(api, workspace, recordings_dir)
    expires_at = datetime(2026, 1, 2, tzinfo=UTC)
    link = link_for(call_id, workspace.id, expires_at)
    later = str(int((expires_at + timedelta(days=3650)).timestamp()))

    response = await api.get(link.replace(query_of(link)["expires"], later))

    assert response.status_code == 403
    assert "signature does not match" in response.json()["message"]


async def test_link_for_other_call_is_403(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_a, _ = await seed_recorded_call(api, workspace, recordings_dir)
    call_b, _ = await seed_recorded_call(api, workspace, recordings_dir)
    link = link_for(call_a, workspace.id, utc_now() + timedelta(hours=1))

    response = await api.get(link.replace(call_a, call_b))

    assert response.status_code == 403
    assert "signature does not match" in response.json()["message"]


async def test_link_for_other_workspace_is_403(api: Api, recordings_dir: Path) -> None:
    mine = await api.workspace("Mine")
    theirs = await api.workspace("Theirs")
    their_call, _ = await seed_recorded_call(api, theirs, recordings_dir)
    link = link_for(their_call, mine.id, utc_now() + timedelta(hours=1))

    response = await api.get(link)

    assert response.status_code == 403
    assert "signature does not match" in response.json()["message"]


async def test_link_for_unknown_call_is_403(api: Api) -> None:
    workspace = await api.workspace()
    call_id = "call_doesnotexist000000"
    link = link_for(call_id, workspace.id, utc_now() + timedelta(hours=1))

    response = await api.get(link)

    assert response.status_code == 403
    assert "signature does not match" in response.json()["message"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("", "expires parameter is missing"),
        ("signature=abc", "expires parameter is missing"),
        ("expires=1900000000", "signature parameter is missing"),
        ("expires=1900000000&signature=", "signature parameter is missing"),
        ("expires=soon&signature=abc", "expires must be a Unix time"),
        ("expires=-5&signature=abc", "expires must be a Unix time"),
        ("expires=1e9&signature=abc", "expires must be a Unix time"),
        ("expires=" + "9" * 40 + "&signature=abc", "expires must be a Unix time"),
        ("expires=%C2%B2&signature=abc", "expires must be a Unix time"),
        ("expires=1900000000&signature=%00%FF%F0", "signature does not match"),
        ("expires=1900000000&signature=" + "A" * 5000, "signature does not match"),
    ],
)
async def test_malformed_link_parameters_are_403(
    api: Api, recordings_dir: Path, query: str, named: str
) -> None:
    workspace = await api.workspace()
    call_id, _ = await seed_recorded_call(api, workspace, recordings_dir)

    response = await api.get(f"/v1/recordings/{call_id}?{query}")

    assert response.status_code == 403
    assert named in response.json()["message"]
    assert response.json()["error"] == "Forbidden"


@pytest.mark.parametrize("call_id", ["call%00", "call%20x%3B", "c" * 65])
async def test_malformed_link_call_id_is_403(api: Api, call_id: str) -> None:
    query = "expires=1900000000&signature=abc"

    response = await api.get(f"/v1/recordings/{call_id}?{query}")

    assert response.status_code == 403
    assert "call id is malformed" in response.json()["message"]


async def test_recording_url_same_everywhere(api: Api, recordings_dir: Path) -> None:
    workspace = await api.workspace()
    call_id, data = await seed_recorded_call(api, workspace, recordings_dir)

    urls = [
        (await api.get(path, workspace)).json()
        for path in (
            f"/v1/calls/{call_id}",
            f"/v1/call-logs/{call_id}",
            f"/v1/call-logs/{call_id}/details",
        )
    ]
    listed = (await api.get("/v1/calls", workspace)).json()["data"][0]
    logged = (await api.get("/v1/call-logs", workspace)).json()["data"][0]
    url = listed["recording_url"]
    fetched = await api.get(url)

    assert url is not None
    assert "ws_" not in url
    assert logged["recording_url"] == url
    assert [body["recording_url"] for body in urls] == [url, url, url]
    assert fetched.status_code == 200
    assert fetched.content == data


async def test_call_without_recording_has_null_url(api: Api) -> None:
    workspace = await api.workspace()
    (call_id,) = await api.seed(workspace, [{}])

    response = await api.get(f"/v1/calls/{call_id}", workspace)

    assert response.json()["recording_url"] is None


async def test_listed_link_leaves_metadata_intact(
    api: Api, recordings_dir: Path
) -> None:
    workspace = await api.workspace()
    metadata = {"note": "null", "missing": None, "count": 2}
    (plain_id,) = await api.seed(workspace, [{"metadata": metadata}])
    (recorded_id,) = await api.seed(workspace, [{"metadata": metadata}])
    key = f"{workspace.id}/{recorded_id}.wav"
    await LocalRecordingStore(recordings_dir).save(key, make_wav())
    await set_recording_path(api, recorded_id, key)

    for path in ("/v1/calls", "/v1/call-logs"):
        listed = {
            item["id"]: item for item in (await api.get(path, workspace)).json()["data"]
        }
        got = (await api.get(f"/v1/calls/{recorded_id}", workspace)).json()

        assert listed[recorded_id]["metadata"] == metadata, path
        assert listed[plain_id]["metadata"] == metadata, path
        assert listed[recorded_id]["recording_url"] == got["recording_url"], path
        assert listed[recorded_id]["recording_url"] is not None, path
        assert listed[plain_id]["recording_url"] is None, path
