"""Response models of the calls API, for the OpenAPI document.

The routes build their JSON directly (see serializers.py); these models describe
the same shape to clients.
"""

from typing import Any

from pydantic import BaseModel, Field, StrictInt, field_validator

from ringline.calls.enums import CallDirection, CallStatus, CallType, EndReason


class Call(BaseModel):
    id: str = Field(description="Call id, `call_` and a random part.")
    agent_id: str = Field(description="The agent that runs the call.")
    agent_version_number: int = Field(description="The published agent version used.")
    batch_call_id: str | None = Field(description="The batch that created the call.")
    type: CallType = Field(description="`phone` or `web`.")
    call_direction: CallDirection = Field(description="`outbound` or `inbound`.")
    from_phone_number: str = Field(description="Caller number, E.164.")
    to_phone_number: str = Field(description="Destination number, E.164.")
    status: CallStatus = Field(description="Where the call is in its life.")
    end_reason: EndReason | None = Field(description="Why it ended; null until then.")
    duration_seconds: int | None = Field(
        description="Talk time from answer to hang-up in whole seconds; 0 when it "
        "ended unanswered; null while it has not ended."
    )
    duration_ms: int | None = Field(description="The same in milliseconds.")
    recording_url: str | None = Field(description="Signed, expiring recording link.")
    metadata: dict[str, Any] = Field(description="Dynamic variables given at creation.")
    scheduled_at: str | None = Field(description="When the call may be dialed.")
    created_at: str = Field(description="ISO 8601 UTC timestamp with milliseconds.")
    updated_at: str = Field(description="Last change of the call.")
    initiated_at: str | None = Field(description="When dialing began.")
    answered_at: str | None = Field(description="When the callee answered.")
    ended_at: str | None = Field(description="When the call ended.")


class CallDetail(Call):
    transcript: str | None = Field(
        description="The conversation, one `Agent:` or `User:` turn per line; null "
        "until available."
    )


class PageMeta(BaseModel):
    page: int = Field(description="Page number, from 1.")
    limit: int = Field(description="Items per page, 1 to 100.")
    total: int | None = Field(description="Matching records; null without total.")
    totalPages: int | None = Field(description="ceil(total / limit).")  # noqa: N815
    next_cursor: str | None = Field(
        description="Token for the next page; null on the last page."
    )


class CallList(BaseModel):
    data: list[Call]
    meta: PageMeta


class ErrorBody(BaseModel):
    statusCode: int = Field(description="The HTTP status.")  # noqa: N815
    message: str | list[str] = Field(
        description="What is wrong, naming the parameter or field; a list when "
        "several inputs are wrong."
    )
    error: str = Field(description="The HTTP reason phrase.")


Scalar = str | int | float | bool | None


class CallCreate(BaseModel):
    agent_id: str = Field(description="The agent that runs the call.")
    phone_number: str | None = Field(
        None,
        description="Destination in E.164. `to_phone_number` and `to_number` are "
        "accepted as the same field.",
    )
    to_phone_number: str | None = Field(None, description="Alias of phone_number.")
    to_number: str | None = Field(None, description="Alias of phone_number.")
    from_phone_number: str | None = Field(
        None,
        description="Caller number; default the agent's, then the workspace's.",
    )
    from_number: str | None = Field(None, description="Alias of from_phone_number.")
    agent_version_number: StrictInt | None = Field(
        None, ge=0, description="Published version; default the latest."
    )
    metadata: dict[str, Scalar] | None = Field(
        None, description="Dynamic variables: at most 50 keys, 16 KB encoded."
    )
    scheduled_at: str | None = Field(
        None, description="When the call may be dialed: future, at most 30 days."
    )

    @field_validator("metadata", mode="before")
    @classmethod
    def _check_metadata_values(cls, value: object) -> object:
        # Checked here so that a nested value gets one message, rather than one
        # per member of the Scalar union.
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, dict | list):
                    kind = "an object" if isinstance(item, dict) else "an array"
                    raise ValueError(
                        f"metadata.{key} must be a string, number, boolean or "
                        f"null (got {kind})"
                    )
        return value
