import json
import socket
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from ringline.analysis.fields import FieldDefinition
from ringline.analysis.model import AnalysisFailed, analyze_with_model
from ringline.analysis.result import AnalysisResult, Segment
from tests.analysis.fake_model import (
    FakeModelServer,
    Reply,
    analysis_completion,
    completion,
)

REFERENCE = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
DEFINITIONS: list[FieldDefinition] = [
    {
        "field_name": "confirmed",
        "field_type": "BOOLEAN",
        "field_description": "Whether the callee confirmed the appointment",
        "options": None,
    },
    {
        "field_name": "party_size",
        "field_type": "NUMBER",
        "field_description": "How many people will come",
        "options": None,
    },
    {
        "field_name": "plan",
        "field_type": "SELECTOR",
        "field_description": None,
        "options": ["Basic", "Premium"],
    },
]
SEGMENTS: list[Segment] = [
    {
        "role": "agent",
        "content": "Can you confirm your appointment for two on Tuesday?",
        "start_ms": 0,
        "end_ms": 3000,
    },
    {
        "role": "user",
        "content": "Yes, two of us, on the Premium plan.",
        "start_ms": 3500,
        "end_ms": 6000,
    },
]
VALID_FIELDS = {"confirmed": True, "party_size": 2, "plan": "Premium"}
SUMMARY = "The callee confirmed the appointment for two."


async def analyze(base_url: str, api_key: str | None = "secret-key") -> AnalysisResult:
    return await analyze_with_model(
        SEGMENTS, DEFINITIONS, base_url, "test-model", api_key, REFERENCE
    )


def last_message(request: dict) -> dict:
    return request["messages"][-1]


async def test_valid_answer_read_once(fake_model: FakeModelServer) -> None:
    fake_model.replies = [analysis_completion("positive", SUMMARY, VALID_FIELDS)]

    result = await analyze(fake_model.base_url)

    assert result.sentiment == "positive"
    assert result.summary == SUMMARY
    assert result.fields == VALID_FIELDS
    assert len(fake_model.requests) == 1


async def test_valid_answer_request_shape(fake_model: FakeModelServer) -> None:
    fake_model.replies = [analysis_completion("positive", SUMMARY, VALID_FIELDS)]

    await analyze(fake_model.base_url)

    request = fake_model.requests[0]
    system = request["messages"][0]["content"]
    assert request["model"] == "test-model"
    assert request["response_format"] == {"type": "json_object"}
    assert fake_model.authorizations == ["Bearer secret-key"]
    assert "- party_size (NUMBER, a JSON number): How many" in system
    assert 'options: "Basic", "Premium"' in system
    assert "null" in system
    assert "2025-03-12T15:00:00+00:00" in system
    assert last_message(request)["content"] == (
        "Agent: Can you confirm your appointment for two on Tuesday?\n"
        "Callee: Yes, two of us, on the Premium plan."
    )


async def test_no_api_key_no_header(fake_model: FakeModelServer) -> None:
    fake_model.replies = [analysis_completion("positive", SUMMARY, VALID_FIELDS)]

    await analyze(fake_model.base_url, api_key=None)

    assert fake_model.authorizations == [None]


async def test_malformed_json_retried_once(fake_model: FakeModelServer) -> None:
    fake_model.replies = [
        completion('{"sentiment": "positive", "fields": {'),
        analysis_completion("positive", SUMMARY, VALID_FIELDS),
    ]

    result = await analyze(fake_model.base_url)

    retry = fake_model.requests[1]
    assert len(fake_model.requests) == 2
    assert last_message(retry)["role"] == "user"
    assert "not valid JSON" in last_message(retry)["content"]
    assert retry["messages"][-2]["content"] == '{"sentiment": "positive", "fields": {'
    assert result.fields == VALID_FIELDS
    assert result.summary == SUMMARY


async def test_wrong_type_twice_nulls_field(fake_model: FakeModelServer) -> None:
    wrong = {**VALID_FIELDS, "party_size": "a couple"}
    fake_model.replies = [
        analysis_completion("neutral", SUMMARY, wrong),
        analysis_completion("neutral", SUMMARY, wrong),
    ]

    with capture_logs() as logs:
        result = await analyze(fake_model.base_url)

    correction = last_message(fake_model.requests[1])["content"]
    warnings = [entry for entry in logs if entry["event"] == "analysis.fields_invalid"]
    assert len(fake_model.requests) == 2
    assert "'party_size': expected a finite number, got a string" in correction
    assert "'plan'" not in correction
    assert result.fields == {"confirmed": True, "party_size": None, "plan": "Premium"}
    assert result.sentiment == "neutral"
    assert len(warnings) == 1
    assert warnings[0]["fields"] == ["party_size"]
    assert "expected a finite number" in warnings[0]["reasons"][0]


async def test_missing_field_retried_once(fake_model: FakeModelServer) -> None:
    fake_model.replies = [
        analysis_completion("positive", SUMMARY, {"confirmed": True, "party_size": 2}),
        analysis_completion("positive", SUMMARY, VALID_FIELDS),
    ]

    with capture_logs() as logs:
        result = await analyze(fake_model.base_url)

    correction = last_message(fake_model.requests[1])["content"]
    assert len(fake_model.requests) == 2
    assert "field 'plan' is missing" in correction
    assert result.fields == VALID_FIELDS
    assert logs == []


async def test_retry_keeps_first_valid_values(fake_model: FakeModelServer) -> None:
    fake_model.replies = [
        analysis_completion("positive", SUMMARY, {**VALID_FIELDS, "plan": "Gold"}),
        analysis_completion("positive", SUMMARY, {"plan": "basic"}),
    ]

    result = await analyze(fake_model.base_url)

    assert result.fields == {"confirmed": True, "party_size": 2, "plan": "Basic"}


async def test_invalid_json_twice_degrades(fake_model: FakeModelServer) -> None:
    fake_model.replies = [completion("Sure! Here it is."), completion("[1, 2]")]

    with capture_logs() as logs:
        result = await analyze(fake_model.base_url)

    events = [entry["event"] for entry in logs]
    assert len(fake_model.requests) == 2
    assert result.sentiment == "unknown"
    assert result.summary is None
    assert result.fields == {"confirmed": None, "party_size": None, "plan": None}
    assert events == ["analysis.output_invalid", "analysis.fields_invalid"]


async def test_unknown_sentiment_not_retried(fake_model: FakeModelServer) -> None:
    fake_model.replies = [analysis_completion("ecstatic", None, VALID_FIELDS)]

    result = await analyze(fake_model.base_url)

    assert result.sentiment == "unknown"
    assert result.summary is None
    assert len(fake_model.requests) == 1


async def test_http_error_raises(fake_model: FakeModelServer) -> None:
    fake_model.replies = [Reply(500, b'{"error": "overloaded"}')]

    with pytest.raises(AnalysisFailed, match="500"):
        await analyze(fake_model.base_url)

    assert len(fake_model.requests) == 1


async def test_http_error_on_retry_raises(fake_model: FakeModelServer) -> None:
    fake_model.replies = [completion("not json"), Reply(503, b"{}")]

    with pytest.raises(AnalysisFailed, match="503"):
        await analyze(fake_model.base_url)


async def test_no_completion_body_raises(fake_model: FakeModelServer) -> None:
    fake_model.replies = [Reply(200, json.dumps({"id": "x"}).encode())]

    with pytest.raises(AnalysisFailed, match="no chat completion"):
        await analyze(fake_model.base_url)


async def test_refused_connection_raises() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(AnalysisFailed, match="request to"):
        await analyze(f"http://127.0.0.1:{port}/v1")
