"""Import every table so that Base.metadata is complete (for migrations and tests)."""

from ringline.agents.models import Agent, AgentVersion
from ringline.calls.models import Call, CallEvent, IdempotencyKey
from ringline.core.database import Base
from ringline.jobs.models import Job
from ringline.keys.models import ApiKey
from ringline.webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from ringline.workspaces.models import Workspace

__all__ = [
    "Agent",
    "AgentVersion",
    "ApiKey",
    "Base",
    "Call",
    "CallEvent",
    "IdempotencyKey",
    "Job",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "Workspace",
]
