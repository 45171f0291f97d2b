"""Request and response models of the webhooks API."""

import base64
import binascii
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
)

from ringline.webhooks.outbox import CALL_ANALYZED, CALL_ENDED, CALL_INITIATED
from ringline.webhooks.urls import MAX_URL_LENGTH, check_url

EVENT_TYPES = (CALL_INITIATED, CALL_ENDED, CALL_ANALYZED)
# Names that DialNexa integrations subscribe with, mapped onto Ringline's events.
EVENT_ALIASES = {
    "call.started": CALL_INITIATED,
    "call.completed": CALL_ENDED,
    "call.failed": CALL_ENDED,
    "call.no_answer": CALL_ENDED,
    "call.ended": CALL_ENDED,
}
ACCEPTED_EVENTS = (*EVENT_TYPES, *EVENT_ALIASES)
SECRET_PATTERN = re.compile(r"[!-~]{8,256}")
MAX_EVENT_NAMES = 50

RetryCount = Annotated[StrictInt, Field(ge=0, le=10)]
TimeoutMs = Annotated[StrictInt, Field(ge=1000, le=60_000)]
EventNames = Annotated[list[str], Field(min_length=1, max_length=MAX_EVENT_NAMES)]

URL_DESCRIPTION = (
    "Where events are sent: an https URL whose host resolves to public "
    "addresses only, at most 2048 characters, with no user name or password."
)
EVENTS_DESCRIPTION = (
    "Event types to send: call_initiated, call_ended, call_analyzed. The names "
    "call.started, call.completed, call.failed, call.no_answer and call.ended are "
    "accepted and stored as the event they map to."
)
SECRET_DESCRIPTION = (
    "Key that signs each delivery: 8 to 256 printable ASCII characters without "
    "spaces. Generated in the Standard Webhooks whsec_ form when left out."
)


def canonical_event_types(names: list[str]) -> list[str]:
    """Map event names and aliases onto event types, in EVENT_TYPES order.

    Raises ValueError naming the unknown names and the accepted ones.
    """
    requested: set[str] = set()
    unknown: list[str] = []
    for name in names:
        normalized = name.strip().lower()
        event_type = EVENT_ALIASES.get(normalized, normalized)
        if event_type in EVENT_TYPES:
            requested.add(event_type)
        elif name not in unknown:
            unknown.append(name)
    if unknown:
        listed = ", ".join(repr(name[:40]) for name in unknown[:5])
        noun = "event types" if len(unknown) > 1 else "event type"
        raise ValueError(
            f"unknown {noun} {listed}; accepted: {', '.join(ACCEPTED_EVENTS)}"
        )
    return [event_type for event_type in EVENT_TYPES if event_type in requested]


def _check_url_text(value: str) -> str:
    # Only the checks that do not depend on the server's settings run here.
    # The service checks the URL again with the settings and resolves its host.
    check_url(value, allow_private=True)
    return value


STANDARD_PREFIX = "whsec_"


def _check_secret(value: str) -> str:
    if not SECRET_PATTERN.fullmatch(value):
        raise ValueError("must be 8 to 256 printable ASCII characters without spaces")
    if value.startswith(STANDARD_PREFIX) and not _is_base64(
        value[len(STANDARD_PREFIX) :]
    ):
        raise ValueError(
            "starts with whsec_, so the rest must be base64 as Standard Webhooks "
            "secrets are; leave secret out to have one generated"
        )
    return value


def _is_base64(text: str) -> bool:
    try:
        padded = text + "=" * (-len(text) % 4)
        return len(base64.b64decode(padded, validate=True)) > 0
    except (binascii.Error, ValueError):
        return False


Url = Annotated[str, Field(max_length=MAX_URL_LENGTH), AfterValidator(_check_url_text)]
Secret = Annotated[str, AfterValidator(_check_secret)]


class WebhookCreate(BaseModel):
    url: Url = Field(description=URL_DESCRIPTION)
    events: EventNames = Field(description=EVENTS_DESCRIPTION)
    secret: Secret | None = Field(None, description=SECRET_DESCRIPTION)
    is_active: StrictBool = Field(True, description="false pauses deliveries.")
    retry_count: RetryCount = Field(
        5, description="Retries after a failed attempt, 0 to 10."
    )
    timeout_ms: TimeoutMs = Field(
        10_000,
        description="How long one attempt waits for the response, 1000 to 60000.",
    )

    @field_validator("events")
    @classmethod
    def _canonical_events(cls, value: list[str]) -> list[str]:
        return canonical_event_types(value)


class WebhookUpdate(BaseModel):
    """Fields to change. A field left out keeps its value."""

    url: Url | None = Field(None, description=URL_DESCRIPTION)
    events: EventNames | None = Field(None, description=EVENTS_DESCRIPTION)
    secret: Secret | None = Field(
        None,
        description="A new signing secret, 8 to 256 printable ASCII characters "
        "without spaces; shown once, in this response.",
    )
    is_active: StrictBool | None = Field(None, description="false pauses deliveries.")
    retry_count: RetryCount | None = Field(None, description="0 to 10.")
    timeout_ms: TimeoutMs | None = Field(None, description="1000 to 60000.")

    @field_validator("events")
    @classmethod
    def _canonical_events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else canonical_event_types(value)

    def given_fields(self) -> dict[str, Any]:
        """Return the fields the client sent, null ones included."""
        return self.model_dump(exclude_unset=True)


class Webhook(BaseModel):
    id: str = Field(description="Webhook id, `webhook_` and a random part.")
    url: str = Field(description="Where events are sent.")
    events: list[str] = Field(description="Event types sent, in canonical form.")
    secret: str = Field(
        description="The full signing secret in the response that sets it, and "
        "`********` in every other response."
    )
    is_active: bool = Field(description="Whether events are sent.")
    retry_count: int = Field(description="Retries after a failed attempt.")
    timeout_ms: int = Field(description="How long one attempt waits, milliseconds.")
    created_at: str = Field(description="ISO 8601 UTC timestamp.")
    updated_at: str = Field(description="ISO 8601 UTC timestamp.")


class WebhookList(BaseModel):
    data: list[Webhook] = Field(description="Webhooks, newest first.")
    meta: dict[str, Any] = Field(description="Paging: page, limit, total, …")


class Delivery(BaseModel):
    id: str = Field(description="Delivery attempt id, `delivery_` and a random part.")
    event_id: str = Field(description="The event sent, the same on every attempt.")
    event_type: str = Field(description="call_initiated, call_ended or call_analyzed.")
    call_id: str = Field(description="The call the event is about.")
    attempt: int = Field(description="1 for the first attempt of the event.")
    state: str = Field(description="pending, succeeded or failed.")
    response_status: int | None = Field(
        description="HTTP status of the response, or null when no response came."
    )
    error: str | None = Field(description="Why the attempt failed, if it did.")
    duration_ms: int | None = Field(description="How long the attempt took.")
    created_at: str = Field(description="When the attempt was queued.")
    attempted_at: str | None = Field(
        description="When it was sent, or null while pending."
    )


class DeliveryList(BaseModel):
    data: list[Delivery] = Field(description="Attempts, newest first.")
    meta: dict[str, Any] = Field(description="Paging: page, limit, total, …")
