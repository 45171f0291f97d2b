"""Response models of the call logs API, for the OpenAPI document."""

from typing import Any

from pydantic import BaseModel, Field

from ringline.calls.enums import AnalysisStatus, Sentiment
from ringline.calls.schemas import Call, PageMeta


class CallLog(Call):
    call_id: str = Field(description="The same as id.")
    sentiment: Sentiment | None = Field(
        description="The callee's mood; null while the analysis is pending."
    )
    summary: str | None = Field(description="A short account of the conversation.")
    analysis: dict[str, Any] = Field(
        description="The agent's post-call fields by name; null where the "
        "conversation did not tell. Empty until the analysis completes."
    )
    analysis_status: AnalysisStatus = Field(
        description="pending, completed, failed, or not_applicable for calls "
        "that never connected."
    )
    latency_ms: int | None = Field(
        description="Median time from the end of the callee's turn to the start "
        "of the agent's reply."
    )


class TranscriptSegment(BaseModel):
    role: str = Field(description="agent or user.")
    content: str = Field(description="The words spoken in this turn.")
    start_ms: int = Field(
        description="Start, in milliseconds after the callee picked up."
    )
    end_ms: int = Field(description="End, in milliseconds after the callee picked up.")


class TimelineMoment(BaseModel):
    event: str = Field(
        description="call_created, call_initiated, … analysis_completed."
    )
    timestamp: str = Field(description="When it happened, ISO 8601 UTC.")


class CallLogDetails(CallLog):
    transcript: str | None = Field(description="One `Agent:` or `User:` turn per line.")
    transcript_segments: list[TranscriptSegment]
    timeline: list[TimelineMoment] = Field(description="In time order.")


class CallLogList(BaseModel):
    data: list[CallLog]
    meta: PageMeta
