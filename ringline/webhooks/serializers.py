from typing import Any

from ringline.core.time import format_timestamp
from ringline.webhooks.models import Webhook, WebhookDelivery

MASKED_SECRET = "********"


def webhook_to_dict(webhook: Webhook, show_secret: bool = False) -> dict[str, Any]:
    """Serialize a webhook, masking the secret unless show_secret is set."""
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "secret": webhook.secret if show_secret else MASKED_SECRET,
        "is_active": webhook.is_active,
        "retry_count": webhook.retry_count,
        "timeout_ms": webhook.timeout_ms,
        "created_at": format_timestamp(webhook.created_at),
        "updated_at": format_timestamp(webhook.updated_at),
    }


def delivery_to_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "call_id": delivery.call_id,
        "attempt": delivery.attempt,
        "state": delivery.state,
        "response_status": delivery.response_status,
        "error": delivery.error,
        "duration_ms": delivery.duration_ms,
        "created_at": format_timestamp(delivery.created_at),
        "attempted_at": format_timestamp(delivery.attempted_at),
    }
