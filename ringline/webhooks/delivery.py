"""Sending stored webhook events: signed, timed out, retried with backoff.

The worker claims due deliveries with a lease, as it claims calls, and sends
each in its own task, so a slow receiver holds only its own deliveries. At
most PER_WEBHOOK_IN_FLIGHT deliveries of one webhook are in flight per worker,
so a slow or dead receiver cannot take the slots of the others. Outcomes are
written in batches: one transaction records every attempt that finished
meanwhile and queues the retries.
"""

import asyncio
import binascii
import hashlib
import hmac
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook as Signer

import ringline
from ringline.core.database import transaction
from ringline.core.ids import new_id
from ringline.core.time import utc_now
from ringline.webhooks.models import Webhook, WebhookDelivery, WebhookEvent
from ringline.webhooks.urls import CheckedResolver, UnsafeUrl, check_url

log = structlog.get_logger()

# Each webhook has its own connection pool of this size, and at most this many
# of its deliveries in flight, so no send waits for another webhook's
# connections.
PER_WEBHOOK_IN_FLIGHT = 16
USER_AGENT = f"Ringline-Webhooks/{ringline.__version__}"
# The error of a delivery found for a webhook deactivated since; never retried.
INACTIVE = "webhook is inactive; not sent"
ERROR_LENGTH = 500
# Enough of a receiver's response body to keep its connection for the next
# send; a longer body is left unread and its connection closed.
RESPONSE_READ_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    allow_private: bool = False
    retry_base_s: float = 10.0
    capacity: int = 500
    lease_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Outbound:
    """A claimed delivery with what sending it needs."""

    id: str
    webhook_id: str
    event_id: str
    workspace_id: str
    event_type: str
    call_id: str
    attempt: int
    url: str
    secret: str
    timeout_ms: int
    retry_count: int
    is_active: bool
    body: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery: Outbound
    response_status: int | None
    error: str | None
    duration_ms: int
    at: datetime

    @property
    def succeeded(self) -> bool:
        return self.error is None


def retry_delay_s(base_s: float, attempt: int) -> float:
    """Return the wait before the attempt after `attempt`: the base doubled for
    each attempt already made, times a random factor from 0.75 to 1.25."""
    return base_s * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)


def signature_headers(
    event_id: str, secret: str, body: bytes, at: datetime
) -> dict[str, str]:
    """Return the Standard Webhooks headers and the DialNexa signature header.

    A secret in the Standard Webhooks form (whsec_ and base64) is keyed as that
    specification defines; any other secret is keyed with its UTF-8 bytes. The
    DialNexa header is keyed with the secret string exactly as shown.
    """
    signer = _signer(secret)
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signer.sign(event_id, at, body),
        "x-dialnexa-signature": f"sha256={digest}",
    }


def _signer(secret: str) -> Signer:
    if secret.startswith("whsec_"):
        try:
            return Signer(secret)
        except (binascii.Error, ValueError):
            # Secrets saved before whsec_ secrets were checked may not be
            # base64. They are keyed by their bytes, as other custom secrets are.
            log.warning("webhook.secret_not_base64")
    return Signer(secret.encode())


class DeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: DeliverySettings,
        worker_id: str,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.worker_id = worker_id
        self.in_flight: dict[str, asyncio.Task[None]] = {}
        self._per_webhook: dict[str, int] = {}
        # The (webhook id, call id) pair of every send in flight.
        self._calls_in_flight: set[tuple[str, str]] = set()
        self._outcomes: list[Outcome] = []
        self._flushing: asyncio.Task[None] | None = None
        self._slot_freed = asyncio.Event()
        # NOTE: one client session per webhook that had a delivery, kept until
        # the worker stops. A server with very many webhooks keeps as many pools.
        # The sends use aiohttp: on this machine httpx took about 2.2 ms of CPU
        # per POST at 16 in flight, aiohttp 0.2 ms, and that CPU set the
        # worker's delivery rate.
        self._clients: dict[str, aiohttp.ClientSession] = {}

    async def run(self, stop: asyncio.Event, poll_s: float) -> None:
        """Send due deliveries until stop is set. A claim follows each finished
        send at once, so a fast receiver is not held to the poll interval."""
        while not stop.is_set():
            try:
                await self.claim_and_send()
            except Exception:
                log.exception("webhook.claim_failed")
            self._slot_freed.clear()
            waiting = asyncio.create_task(self._slot_freed.wait())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait(
                {waiting, stopping}, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED
            )
            waiting.cancel()
            stopping.cancel()
        await self.close()

    async def close(self) -> None:
        if self.in_flight:
            await asyncio.gather(*self.in_flight.values(), return_exceptions=True)
        await self._flush()
        for client in self._clients.values():
            await client.close()
        self._clients.clear()

    async def claim_and_send(self) -> int:
        """Claim due deliveries within the free capacity and start sending them;
        return how many started."""
        free = self.settings.capacity - len(self.in_flight)
        if free <= 0:
            return 0
        claimed = await self._claim(free)
        for outbound in claimed:
            self._per_webhook[outbound.webhook_id] = (
                self._per_webhook.get(outbound.webhook_id, 0) + 1
            )
            self._calls_in_flight.add((outbound.webhook_id, outbound.call_id))
            task = asyncio.create_task(self._send(outbound))
            self.in_flight[outbound.id] = task
        return len(claimed)

    async def extend_leases(self, until: datetime) -> None:
        if not self.in_flight:
            return
        async with transaction(self.sessionmaker) as session:
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id.in_(list(self.in_flight)),
                    WebhookDelivery.locked_by == self.worker_id,
                )
                .values(locked_until=until)
            )

    async def _claim(self, limit: int) -> list[Outbound]:
        now = utc_now()
        until = now + timedelta(seconds=self.settings.lease_s)
        busy = [
            webhook_id
            for webhook_id, count in self._per_webhook.items()
            if count >= PER_WEBHOOK_IN_FLIGHT
        ]
        async with transaction(self.sessionmaker) as session:
            ids = await self._due_ids(session, now, limit, busy)
            if not ids:
                return []
            claimed = await session.scalars(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids), _unlocked(now))
                .values(locked_by=self.worker_id, locked_until=until)
                .returning(WebhookDelivery.id)
            )
            return await self._outbound(session, list(claimed))

    async def _due_ids(
        self, session: AsyncSession, now: datetime, limit: int, busy: list[str]
    ) -> list[str]:
        """Return due deliveries, oldest first, skipping webhooks this worker
        already keeps busy and taking no more of one webhook than its free slots.

        A delivery waits while this worker sends another event of the same call
        to the same webhook, so a call's events are sent in the order they were
        stored (call_analyzed after call_ended). A retry is queued with a later
        due time, so later events may still arrive first.

        The query reads the due index in order and stops at limit rows. Ranking
        the deliveries per webhook in SQL read every due delivery on every claim,
        so a receiver with a backlog slowed the sends to all the others.
        """
        conditions = [
            WebhookDelivery.state == "pending",
            WebhookDelivery.due_at <= now,
            _unlocked(now),
        ]
        if busy:
            conditions.append(WebhookDelivery.webhook_id.not_in(busy))
        query = (
            select(
                WebhookDelivery.id, WebhookDelivery.webhook_id, WebhookDelivery.call_id
            )
            .where(*conditions)
            .order_by(WebhookDelivery.due_at)
            .limit(limit)
        )
        in_flight = dict(self._per_webhook)
        calls = set(self._calls_in_flight)
        claimable = []
        for delivery_id, webhook_id, call_id in await session.execute(query):
            if in_flight.get(webhook_id, 0) >= PER_WEBHOOK_IN_FLIGHT:
                continue
            if (webhook_id, call_id) in calls:
                continue
            in_flight[webhook_id] = in_flight.get(webhook_id, 0) + 1
            calls.add((webhook_id, call_id))
            claimable.append(delivery_id)
        return claimable

    async def _outbound(self, session: AsyncSession, ids: list[str]) -> list[Outbound]:
        if not ids:
            return []
        query = (
            select(
                WebhookDelivery.id,
                WebhookDelivery.webhook_id,
                WebhookDelivery.event_id,
                WebhookDelivery.workspace_id,
                WebhookDelivery.event_type,
                WebhookDelivery.call_id,
                WebhookDelivery.attempt,
                Webhook.url,
                Webhook.secret,
                Webhook.timeout_ms,
                Webhook.retry_count,
                Webhook.is_active,
                WebhookEvent.body,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_(ids))
        )
        return [Outbound(*row) for row in await session.execute(query)]

    async def _send(self, outbound: Outbound) -> None:
        started = time.perf_counter()
        status, error = None, None
        try:
            status, error = await self._post(outbound)
        except Exception as failure:  # any fault of one send is that send's outcome
            log.exception("webhook.send_crashed", delivery_id=outbound.id)
            error = f"internal error: {type(failure).__name__}"
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000)
            self._outcomes.append(
                Outcome(outbound, status, error, duration_ms, utc_now())
            )
            self.in_flight.pop(outbound.id, None)
            self._per_webhook[outbound.webhook_id] -= 1
            self._calls_in_flight.discard((outbound.webhook_id, outbound.call_id))
            self._schedule_flush()
            self._slot_freed.set()

    async def _post(self, outbound: Outbound) -> tuple[int | None, str | None]:
        if not outbound.is_active:
            return None, INACTIVE
        try:
            check_url(outbound.url, self.settings.allow_private)
        except UnsafeUrl as error:
            return None, _rejection(error)

        now = utc_now()
        headers = signature_headers(
            outbound.event_id, outbound.secret, outbound.body, now
        )
        timeout = aiohttp.ClientTimeout(total=outbound.timeout_ms / 1000)
        try:
            async with self._client_for(outbound.webhook_id).post(
                outbound.url,
                data=outbound.body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                await response.content.read(RESPONSE_READ_BYTES)
        except UnsafeUrl as error:
            # CheckedResolver rejected an address of the host.
            return None, _rejection(error)
        except TimeoutError:
            return None, f"timed out after {outbound.timeout_ms} ms"
        except aiohttp.ClientError as failure:
            return None, f"{type(failure).__name__}: {failure}"[:ERROR_LENGTH]
        if 200 <= response.status < 300:
            return response.status, None
        return response.status, f"HTTP {response.status}"

    def _client_for(self, webhook_id: str) -> aiohttp.ClientSession:
        client = self._clients.get(webhook_id)
        if client is None:
            client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=PER_WEBHOOK_IN_FLIGHT,
                    resolver=CheckedResolver(self.settings.allow_private),
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"user-agent": USER_AGENT, "content-type": "application/json"},
                trust_env=False,
            )
            self._clients[webhook_id] = client
        return client

    def _schedule_flush(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        # One yield gathers the sends that finish in the same moment.
        await asyncio.sleep(0)
        await self._flush()

    async def _flush(self) -> None:
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                await self._record(batch)
            except Exception:
                # The leases expire and the deliveries are sent again, so each one
                # still goes out at least once.
                log.exception("webhook.outcomes_not_recorded", count=len(batch))

    async def _record(self, outcomes: list[Outcome]) -> None:
        async with transaction(self.sessionmaker) as session:
            # One UPDATE by id per row, sent as one batch. A row deleted with its
            # webhook meanwhile matches nothing.
            await session.execute(
                FINISH_STATEMENT, [_finished(outcome) for outcome in outcomes]
            )
            retries = await self._retries(session, outcomes)
            if retries:
                await session.execute(insert(WebhookDelivery), retries)
        for outcome in outcomes:
            log.info(
                "webhook.delivered" if outcome.succeeded else "webhook.attempt_failed",
                delivery_id=outcome.delivery.id,
                webhook_id=outcome.delivery.webhook_id,
                event_id=outcome.delivery.event_id,
                attempt=outcome.delivery.attempt,
                status=outcome.response_status,
                error=outcome.error,
            )

    async def _retries(
        self, session: AsyncSession, outcomes: list[Outcome]
    ) -> list[dict[str, Any]]:
        """Return the next attempts of failed deliveries whose webhook still
        exists, is active and allows another retry."""
        failed = [
            outcome
            for outcome in outcomes
            if not outcome.succeeded
            and outcome.error != INACTIVE
            and outcome.delivery.attempt <= outcome.delivery.retry_count
        ]
        if not failed:
            return []
        webhook_ids = {outcome.delivery.webhook_id for outcome in failed}
        active = set(
            await session.scalars(
                select(Webhook.id).where(
                    Webhook.id.in_(webhook_ids), Webhook.is_active.is_(True)
                )
            )
        )
        return [
            self._retry(outcome)
            for outcome in failed
            if outcome.delivery.webhook_id in active
        ]

    def _retry(self, outcome: Outcome) -> dict[str, Any]:
        delivery = outcome.delivery
        delay = retry_delay_s(self.settings.retry_base_s, delivery.attempt)
        return {
            "id": new_id("delivery"),
            "webhook_id": delivery.webhook_id,
            "event_id": delivery.event_id,
            "workspace_id": delivery.workspace_id,
            "event_type": delivery.event_type,
            "call_id": delivery.call_id,
            "attempt": delivery.attempt + 1,
            "state": "pending",
            "due_at": outcome.at + timedelta(seconds=delay),
            "created_at": outcome.at,
        }


def _rejection(error: UnsafeUrl) -> str:
    """Return the delivery error recorded for a URL that failed its checks."""
    return f"URL refused: {error}"[:ERROR_LENGTH]


def _unlocked(now: datetime) -> Any:
    return or_(
        WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now
    )


deliveries = WebhookDelivery.__table__
FINISH_STATEMENT = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("delivery_id"))
    .values(
        state=bindparam("state"),
        response_status=bindparam("response_status"),
        error=bindparam("error"),
        duration_ms=bindparam("duration_ms"),
        attempted_at=bindparam("attempted_at"),
        locked_by=None,
        locked_until=None,
    )
)


def _finished(outcome: Outcome) -> dict[str, Any]:
    return {
        "delivery_id": outcome.delivery.id,
        "state": "succeeded" if outcome.succeeded else "failed",
        "response_status": outcome.response_status,
        "error": outcome.error,
        "duration_ms": outcome.duration_ms,
        "attempted_at": outcome.at,
    }
