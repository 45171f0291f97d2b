"""Signing and checking recording links, and the recording_url of a call."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from ringline.core.settings import Settings
from ringline.recordings.signing import (
    RecordingLinkExpired,
    RecordingLinkInvalid,
    RecordingLinks,
    recording_url,
)

SECRET = "signing-test-secret-key-0123456789abcdef"
NOW = datetime(2026, 12, 4, 15, 18, 25, 123000, tzinfo=UTC)


def parts_of(link: str) -> tuple[str, int, str]:
    split = urlsplit(link)
    query = parse_qs(split.query)
    return split.path, int(query["expires"][0]), query["signature"][0]


def test_signed_link_verifies_until_expiry() -> None:
    links = RecordingLinks(SECRET, timedelta(days=1))
    link = links.sign("call_1", "ws_1", NOW + timedelta(hours=1))
    path, expires, signature = parts_of(link)

    expired_at = datetime.fromtimestamp(expires, UTC)

    links.verify("call_1", "ws_1", expires, signature, NOW)
    links.verify(
        "call_1", "ws_1", expires, signature, expired_at - timedelta(milliseconds=1)
    )

    assert path == "/v1/recordings/call_1"
    assert expired_at == datetime(2026, 12, 4, 16, 18, 26, tzinfo=UTC)
    with pytest.raises(RecordingLinkExpired, match="fetch the call again"):
        links.verify("call_1", "ws_1", expires, signature, expired_at)


def test_link_binds_call_and_workspace() -> None:
    links = RecordingLinks(SECRET, timedelta(days=1))
    _, expires, signature = parts_of(links.sign("call_1", "ws_1", NOW))

    for call_id, workspace_id in [("call_2", "ws_1"), ("call_1", "ws_2")]:
        with pytest.raises(RecordingLinkInvalid, match="signature does not match"):
            links.verify(call_id, workspace_id, expires, signature, NOW)


def test_other_secret_key_rejects_link() -> None:
    links = RecordingLinks(SECRET, timedelta(days=1))
    other = RecordingLinks(SECRET + "-rotated", timedelta(days=1))
    _, expires, signature = parts_of(links.sign("call_1", "ws_1", NOW))

    with pytest.raises(RecordingLinkInvalid):
        other.verify("call_1", "ws_1", expires, signature, NOW)


def test_expiry_rounds_up_within_step() -> None:
    links = RecordingLinks(SECRET, timedelta(days=1))

    first = links.expiry_for(NOW)
    same_hour = links.expiry_for(NOW.replace(minute=59, second=59))

    assert first == same_hour == datetime(2026, 12, 5, 16, tzinfo=UTC)
    assert first - NOW >= timedelta(days=1)
    assert first - NOW < timedelta(days=1, hours=1)


def test_short_lifetime_uses_short_step() -> None:
    links = RecordingLinks(SECRET, timedelta(minutes=2))

    expiry = links.expiry_for(NOW)

    assert timedelta(minutes=2) <= expiry - NOW < timedelta(minutes=2, seconds=5)


def test_recording_url_is_absolute() -> None:
    links = RecordingLinks(SECRET, timedelta(days=1))

    url = recording_url(
        links, "https://calls.example.com/ringline/", "call_1", "ws_1", "k.wav", NOW
    )

    assert url is not None
    assert url.startswith("https://calls.example.com/ringline/v1/recordings/call_1?")
    _, expires, signature = parts_of(url)
    links.verify("call_1", "ws_1", expires, signature, NOW)


def test_recording_url_none_without_recording() -> None:
    links = RecordingLinks(SECRET, timedelta(days=1))

    url = recording_url(links, "http://ringline.test/", "call_1", "ws_1", None, NOW)

    assert url is None


def test_link_lifetime_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGLINE_RECORDING_LINK_SECONDS", "3600")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.recording_link_seconds == 3600
    assert Settings.model_fields["recording_link_seconds"].default == 86_400
