"""Call statuses, end reasons and the other closed value sets of the call object."""

from enum import StrEnum


class CallStatus(StrEnum):
    CREATED = "created"
    INITIATED = "initiated"
    SENT = "sent"
    RECEIVED = "received"
    COMPLETED = "completed"
    DID_NOT_PICK = "did_not_pick"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETRY_EXPIRED = "retry_expired"


ACTIVE_STATUSES = (
    CallStatus.CREATED,
    CallStatus.INITIATED,
    CallStatus.SENT,
    CallStatus.RECEIVED,
)
FINAL_STATUSES = tuple(status for status in CallStatus if status not in ACTIVE_STATUSES)

# Status filter aliases accepted for compatibility with DialNexa clients.
STATUS_ALIASES: dict[str, tuple[CallStatus, ...]] = {
    "in-progress": (CallStatus.RECEIVED,),
    "in_progress": (CallStatus.RECEIVED,),
    "ongoing": (CallStatus.RECEIVED,),
    "no-answer": (CallStatus.NO_ANSWER, CallStatus.DID_NOT_PICK),
    "queued": (CallStatus.CREATED,),
    "canceled": (CallStatus.CANCELLED,),
    "active": ACTIVE_STATUSES,
    "ended": FINAL_STATUSES,
}


class EndReason(StrEnum):
    USER_DISCONNECTED = "user_disconnected"
    AGENT_DISCONNECTED = "agent_disconnected"
    USER_DID_NOT_PICK_UP = "user_did_not_pick_up"
    USER_BUSY = "user_busy"
    USER_UNREACHABLE = "user_unreachable"
    INVALID_PHONE_NUMBER = "invalid_phone_number"
    DESTINATION_FORBIDDEN = "destination_forbidden"
    NETWORK_FAILURE = "network_failure"
    VOICEMAIL_DETECTED = "voicemail_detected"
    SILENCE_TIMEOUT = "silence_timeout"
    MAX_DURATION_REACHED = "max_duration_reached"
    SYSTEM_AT_CAPACITY = "system_at_capacity"
    SIP_AUTH_FAILED = "sip_auth_failed"
    SIP_TRUNK_UNREACHABLE = "sip_trunk_unreachable"
    WORKER_LOST = "worker_lost"
    UNKNOWN = "unknown"


class CallType(StrEnum):
    PHONE = "phone"
    WEB = "web"


class CallDirection(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    UNKNOWN = "unknown"


class AnalysisStatus(StrEnum):
    """The state of a call's post-call analysis. Calls never picked up have none."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"
