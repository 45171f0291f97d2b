"""Webhook events sent by a real worker to a real receiver on 127.0.0.1."""

import asyncio
import hashlib
import hmac
import re
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from ringline.calls.repository import TIMESTAMP_COLUMNS
from ringline.core.database import transaction
from ringline.core.ids import new_id
from ringline.core.time import utc_now
from ringline.webhooks.models import Webhook, WebhookDelivery
from tests.dialing.helpers import (
    place_call,
    published_agent,
    spawn_worker,
    wait_for_status,
    wait_until_final,
)
from tests.factories import Api, Workspace, open_api
from tests.webhooks.receiver import Received, Receiver, running_receiver

SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="
EVENTS = ["call_initiated", "call_ended", "call_analyzed"]


async def add_webhook(
    api: Api, workspace: Workspace, url: str, **fields: object
) -> str:
    now = utc_now()
    values: dict[str, object] = {
        "events": EVENTS,
        "secret": SECRET,
        "is_active": True,
        "retry_count": 3,
        "timeout_ms": 2000,
        **fields,
    }
    webhook_id = new_id("webhook")
    async with transaction(api.sessionmaker) as session:
        session.add(
            Webhook(
                id=webhook_id,
                workspace_id=workspace.id,
                url=url,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
    return webhook_id


async def wait_for(
    condition: Callable[[], bool], timeout_s: float = 20.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def events_of(receiver: Receiver) -> list[dict]:
    return [orjson.loads(request.body) for request in receiver.received]


def live_api(database_url: str, tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    settings: dict[str, object] = {
        "webhook_allow_private": True,
        "webhook_retry_base_seconds": 0.1,
    }
    settings.update(overrides)
    return open_api(database_url, tmp_path, run_worker=True, **settings)


async def test_events_arrive_signed_and_ordered(
    database_url: str, tmp_path: Path
) -> None:
    with running_receiver() as receiver:
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            await add_webhook(api, workspace, receiver.url)
            agent_id = await published_agent(api, workspace)
            metadata = {"note": "Zoë </script> a/b <i>", "name": "Ünal"}
            call_id = await place_call(
                api, workspace, agent_id, "+15550100150", metadata=metadata
            )
            await wait_until_final(api, workspace, call_id)
            await wait_for(lambda: len(receiver.received) >= 3, what="3 events")

    events = events_of(receiver)
    by_type = {event["event_type"]: event for event in events}
    verifier = Verifier(SECRET)
    for request in receiver.received:
        assert verifier.verify(request.body, request.headers, json_parse=False) is None
        digest = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-dialnexa-signature"] == f"sha256={digest}"
        assert request.headers["user-agent"].startswith("Ringline")
    assert set(by_type) == set(EVENTS)
    ordered = sorted(events, key=lambda event: event["sequence"])
    assert [event["event_type"] for event in ordered] == EVENTS
    assert by_type["call_ended"]["payload"]["call"]["metadata"] == metadata
    assert by_type["call_ended"]["payload"]["call"]["transcript"]
    assert "transcript" not in by_type["call_initiated"]["payload"]["call"]
    assert by_type["call_analyzed"]["payload"]["call"]["analysis_status"] == (
        "completed"
    )
    assert all(event["payload"]["call"]["id"] == call_id for event in events)


async def test_analyzed_sent_after_ended_answered(
    database_url: str, tmp_path: Path
) -> None:
    hold_s = 0.5

    def slow_ended(_index: int, request: Received) -> tuple[int, float]:
        is_ended = orjson.loads(request.body)["event_type"] == "call_ended"
        return 200, hold_s if is_ended else 0.0

    with running_receiver(slow_ended) as receiver:
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            await add_webhook(
                api, workspace, receiver.url, events=["call_ended", "call_analyzed"]
            )
            agent_id = await published_agent(api, workspace)
            await place_call(api, workspace, agent_id, "+15550100151")
            await wait_for(lambda: len(receiver.received) >= 2, what="2 events")

    arrived = {
        orjson.loads(request.body)["event_type"]: request.at
        for request in receiver.received
    }
    assert arrived["call_analyzed"] >= arrived["call_ended"] + hold_s


async def test_cancelled_live_call_event_has_transcript(
    database_url: str, tmp_path: Path
) -> None:
    with running_receiver() as receiver:
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            await add_webhook(api, workspace, receiver.url, events=["call_ended"])
            script = "\n".join(f"- line {i}" for i in range(50))
            agent_id = await published_agent(api, workspace, prompt_text=script)
            call_id = await place_call(api, workspace, agent_id, "+15550100199")
            await wait_for_status(api, workspace, call_id, {"received"})
            # A turn takes about 0.05 s in tests, so several are spoken by now.
            await asyncio.sleep(0.5)

            cancelled = await api.post(f"/v1/calls/{call_id}/cancel", workspace)
            await wait_for(lambda: len(receiver.received) >= 1, what="call_ended")
            log = await wait_for_recording(api, workspace, call_id)

    (event,) = events_of(receiver)
    transcript = event["payload"]["call"]["transcript"]
    assert cancelled.status_code == 200
    assert event["event_type"] == "call_ended"
    assert transcript is not None
    assert transcript.startswith("Agent: Hello, this is")
    assert "\nUser: " in transcript
    # The hang-up ends the conversation, so no turn is added after the event.
    assert log["transcript"] == transcript
    assert len(log["transcript_segments"]) == len(transcript.splitlines())


async def wait_for_recording(
    api: Api, workspace: Workspace, call_id: str
) -> dict[str, object]:
    """Return the call log once the runner has stored its recording, which it
    does last, after the conversation has stopped."""
    deadline = time.monotonic() + 20
    while True:
        path = f"/v1/call-logs/{call_id}/details"
        log = (await api.get(path, workspace)).json()
        if log["recording_url"] is not None:
            return log
        assert time.monotonic() < deadline, "the recording was never stored"
        await asyncio.sleep(0.05)


async def test_event_recording_link_opens(database_url: str, tmp_path: Path) -> None:
    with running_receiver() as receiver:
        overrides = {"public_url": "http://ringline.test"}
        async with live_api(database_url, tmp_path, **overrides) as api:
            workspace = await api.workspace()
            await add_webhook(api, workspace, receiver.url, events=["call_analyzed"])
            agent_id = await published_agent(api, workspace)
            call_id = await place_call(api, workspace, agent_id, "+15550100150")
            await wait_until_final(api, workspace, call_id)
            await wait_for(lambda: len(receiver.received) >= 1, what="an event")
            link = events_of(receiver)[0]["payload"]["call"]["recording_url"]
            audio = await api.client.get(link)

    assert link.startswith("http://ringline.test/v1/recordings/")
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"


async def test_changed_byte_or_old_timestamp_fails(
    database_url: str, tmp_path: Path
) -> None:
    with running_receiver() as receiver:
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            await add_webhook(api, workspace, receiver.url, events=["call_ended"])
            agent_id = await published_agent(api, workspace)
            call_id = await place_call(api, workspace, agent_id, "+15550100101")
            await wait_until_final(api, workspace, call_id)
            await wait_for(lambda: len(receiver.received) >= 1, what="an event")

    request = receiver.received[0]
    verifier = Verifier(SECRET)
    changed = request.body.replace(b"busy", b"bust")
    old = {
        **request.headers,
        "webhook-timestamp": str(int(time.time()) - 3600),
    }
    assert changed != request.body
    with pytest.raises(WebhookVerificationError):
        verifier.verify(changed, request.headers)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(request.body, old)


def fail_first_of_each_event(seen: set[str]) -> Callable[[int, Received], tuple]:
    def behaviour(_index: int, request: Received) -> tuple[int, float]:
        event_id = request.headers["webhook-id"]
        if event_id in seen:
            return 200, 0.0
        seen.add(event_id)
        return 500, 0.0

    return behaviour


async def test_server_errors_retried_same_body(
    database_url: str, tmp_path: Path
) -> None:
    with running_receiver(fail_first_of_each_event(set())) as receiver:
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            webhook_id = await add_webhook(api, workspace, receiver.url)
            agent_id = await published_agent(api, workspace)
            call_id = await place_call(api, workspace, agent_id, "+15550100150")
            await wait_until_final(api, workspace, call_id)
            await wait_for(lambda: len(receiver.received) >= 6, what="6 requests")
            await asyncio.sleep(0.5)
            async with api.sessionmaker() as session:
                attempts = list(
                    await session.execute(
                        select(WebhookDelivery.attempt, WebhookDelivery.state).where(
                            WebhookDelivery.webhook_id == webhook_id
                        )
                    )
                )

    event_ids = {request.headers["webhook-id"] for request in receiver.received}
    assert len(receiver.received) == 6
    assert len(event_ids) == 3
    for event_id in event_ids:
        first, second = receiver.bodies_for(event_id)
        assert first == second
    assert sorted(attempts) == [(1, "failed")] * 3 + [(2, "succeeded")] * 3


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def fail_initiated_until_ended(receiver: Receiver) -> Callable[[int, Received], tuple]:
    """Return 500 to call_initiated until call_ended has arrived, so that the
    events of one call arrive out of order."""

    def behaviour(_index: int, request: Received) -> tuple[int, float]:
        if orjson.loads(request.body)["event_type"] != "call_initiated":
            return 200, 0.0
        arrived = {orjson.loads(r.body)["event_type"] for r in receiver.received}
        return (200, 0.0) if "call_ended" in arrived else (500, 0.0)

    return behaviour


def initiated_after_ended(receiver: Receiver) -> bool:
    types = [orjson.loads(r.body)["event_type"] for r in receiver.received]
    if not {"call_ended", "call_analyzed"} <= set(types):
        return False
    return "call_initiated" in types[types.index("call_ended") :]


async def test_out_of_order_events_sort_by_sequence(
    database_url: str, tmp_path: Path
) -> None:
    with running_receiver() as receiver:
        receiver.behaviour = fail_initiated_until_ended(receiver)
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            await add_webhook(api, workspace, receiver.url, retry_count=10)
            agent_id = await published_agent(api, workspace)
            call_id = await place_call(api, workspace, agent_id, "+15550100150")
            await wait_until_final(api, workspace, call_id)
            await wait_for(
                lambda: initiated_after_ended(receiver), what="the late call_initiated"
            )
            details = await api.get(f"/v1/call-logs/{call_id}/details", workspace)

    arrivals = [orjson.loads(request.body) for request in receiver.received]
    types = [event["event_type"] for event in arrivals]
    last_initiated = len(types) - 1 - types[::-1].index("call_initiated")
    unique = {event["event_id"]: event for event in arrivals}.values()
    ordered = sorted(unique, key=lambda event: event["sequence"])
    created = [event["created_at"] for event in ordered]
    assert last_initiated > types.index("call_ended")
    assert [event["event_type"] for event in ordered] == EVENTS
    assert created == sorted(created)
    for event in arrivals:
        assert TIMESTAMP.match(event["created_at"]), event["created_at"]
        call = event["payload"]["call"]
        for name in TIMESTAMP_COLUMNS:
            assert call[name] is None or TIMESTAMP.match(call[name]), (name, call)
    for moment in details.json()["timeline"]:
        assert TIMESTAMP.match(moment["timestamp"]), moment


async def test_slow_receiver_times_out_then_retried(
    database_url: str, tmp_path: Path
) -> None:
    def slow_first(index: int, _request: Received) -> tuple[int, float]:
        return (200, 1.6) if index == 0 else (200, 0.0)

    with running_receiver(slow_first) as receiver:
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            webhook_id = await add_webhook(
                api, workspace, receiver.url, events=["call_ended"], timeout_ms=1000
            )
            agent_id = await published_agent(api, workspace)
            call_id = await place_call(api, workspace, agent_id, "+15550100101")
            await wait_until_final(api, workspace, call_id)
            await wait_for(lambda: len(receiver.received) >= 2, what="a retry")
            await asyncio.sleep(0.5)
            async with api.sessionmaker() as session:
                first = await session.scalar(
                    select(WebhookDelivery).where(
                        WebhookDelivery.webhook_id == webhook_id,
                        WebhookDelivery.attempt == 1,
                    )
                )

    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    assert first is not None
    assert first.state == "failed"
    assert first.response_status is None
    assert first.error == "timed out after 1000 ms"
    assert first.duration_ms >= 1000


async def test_retries_stop_at_retry_count(database_url: str, tmp_path: Path) -> None:
    with running_receiver(lambda _i, _r: (503, 0.0)) as receiver:
        async with live_api(database_url, tmp_path) as api:
            workspace = await api.workspace()
            await add_webhook(
                api, workspace, receiver.url, events=["call_ended"], retry_count=2
            )
            agent_id = await published_agent(api, workspace)
            call_id = await place_call(api, workspace, agent_id, "+15550100101")
            await wait_until_final(api, workspace, call_id)
            await wait_for(lambda: len(receiver.received) >= 3, what="3 attempts")
            await asyncio.sleep(1.5)

    assert len(receiver.received) == 3


async def rejected_delivery(
    database_url: str, tmp_path: Path, url: str
) -> WebhookDelivery | None:
    """Send a call_ended event to url with private addresses not allowed, and
    return the delivery once it is no longer pending."""
    async with live_api(database_url, tmp_path, webhook_allow_private=False) as api:
        workspace = await api.workspace()
        webhook_id = await add_webhook(
            api, workspace, url, events=["call_ended"], retry_count=0
        )
        agent_id = await published_agent(api, workspace)
        call_id = await place_call(api, workspace, agent_id, "+15550100101")
        await wait_until_final(api, workspace, call_id)
        deadline = utc_now() + timedelta(seconds=10)
        delivery = None
        while utc_now() < deadline:
            async with api.sessionmaker() as session:
                delivery = await session.scalar(
                    select(WebhookDelivery).where(
                        WebhookDelivery.webhook_id == webhook_id
                    )
                )
            if delivery is not None and delivery.state != "pending":
                break
            await asyncio.sleep(0.05)
    return delivery


async def test_loopback_refused_without_setting(
    database_url: str, tmp_path: Path
) -> None:
    with running_receiver() as receiver:
        delivery = await rejected_delivery(database_url, tmp_path, receiver.url)

    assert receiver.received == []
    assert delivery is not None
    assert delivery.state == "failed"
    assert delivery.error is not None
    assert delivery.error.startswith("URL refused")


async def test_loopback_host_name_rejected(database_url: str, tmp_path: Path) -> None:
    # The URL's text passes, so only the address found when connecting is rejected.
    with running_receiver() as receiver:
        url = receiver.url.replace("http://127.0.0.1", "https://localhost")
        delivery = await rejected_delivery(database_url, tmp_path, url)

    assert receiver.received == []
    assert delivery is not None
    assert delivery.state == "failed"
    assert delivery.error == (
        "URL refused: host localhost resolves to a loopback address; such "
        "addresses need RINGLINE_WEBHOOK_ALLOW_PRIVATE=true on the server"
    )


async def test_killed_worker_event_still_delivered(
    database_url: str, tmp_path: Path
) -> None:
    def slow_first(index: int, _request: Received) -> tuple[int, float]:
        return (200, 5.0) if index == 0 else (200, 0.0)

    with running_receiver(slow_first) as receiver:
        async with open_api(database_url, tmp_path, webhook_allow_private=True) as api:
            workspace = await api.workspace()
            await add_webhook(
                api, workspace, receiver.url, events=["call_ended"], timeout_ms=10_000
            )
            agent_id = await published_agent(api, workspace)
            call_id = await place_call(api, workspace, agent_id, "+15550100150")
            cancelled = await api.post(f"/v1/calls/{call_id}/cancel", workspace)
            first = spawn_worker(database_url, tmp_path, WEBHOOK_ALLOW_PRIVATE="true")
            second = None
            try:
                await wait_for(lambda: len(receiver.received) >= 1, what="a send")
                first.send_signal(signal.SIGKILL)
                first.wait()
                second = spawn_worker(
                    database_url, tmp_path, WEBHOOK_ALLOW_PRIVATE="true"
                )
                await wait_for(lambda: len(receiver.received) >= 2, what="a resend")
                await asyncio.sleep(0.5)
            finally:
                for process in (first, second):
                    if process is not None and process.poll() is None:
                        process.terminate()
                        process.wait(timeout=30)
            async with api.sessionmaker() as session:
                states = list(await session.scalars(select(WebhookDelivery.state)))

    assert cancelled.status_code == 200
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    assert orjson.loads(receiver.received[1].body)["event_type"] == "call_ended"
    assert states == ["succeeded"]
