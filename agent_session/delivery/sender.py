"""Delivers the outbox's events to `WEBHOOK_URL`, signed as Standard Webhooks says (the
`standardwebhooks` package): at least once, in order per session, with back-off.

Each replica runs one sender. A committed turn with events wakes its own replica's sender at
once (`notify`); besides, every sender looks for due events every `poll_seconds`, which is how
retries, the sweep's expiry events and the events of a replica that died get delivered. An
attempt holds a lease on its event in the store, so two senders never attempt the same event at
the same time; a sender that dies mid-attempt leaves it to another after `lease_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from ..errors import ConfigurationError
from ..metrics import Metrics
from ..stores.outbox import Outbox, OutboxEvent, now_us

log = logging.getLogger(__name__)
BACKLOG_EVERY_SECONDS = 5.0  # how often the backlog gauges are read from the store


def backoff(attempts: int, first: float = 1.0, cap: float = 30.0) -> float:
    """Seconds before the next attempt after `attempts` failed ones: doubling from `first`, at
    most `cap`, with jitter (between half and all of it) so receivers coming back are not hit
    by every sender at once."""
    return min(cap, first * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)


def signer(secret: str) -> Webhook:
    """The signer for `WEBHOOK_SECRET`, or `ConfigurationError` naming it."""
    try:
        return Webhook(secret)
    except Exception as exc:  # the package raises several kinds for a malformed secret
        raise ConfigurationError("WEBHOOK_SECRET is not a Standard Webhooks secret: use "
                                 "'whsec_' followed by base64 (at least 24 bytes).") from exc


class WebhookSender:
    def __init__(self, store: Outbox, url: str, secret: str, metrics: Metrics, *,
                 lease_seconds: float = 20.0, poll_seconds: float = 0.5,
                 timeout_seconds: float = 10.0, first_retry_seconds: float = 1.0,
                 max_backoff_seconds: float = 30.0, max_in_flight: int = 16) -> None:
        if timeout_seconds >= lease_seconds:
            raise ValueError("an attempt must end before its lease")
        self._store, self._url, self._metrics = store, url, metrics
        self._webhook = signer(secret)
        self._lease, self._poll = lease_seconds, poll_seconds
        self._timeout = timeout_seconds
        self._first, self._cap = first_retry_seconds, max_backoff_seconds
        self._slots = asyncio.Semaphore(max_in_flight)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._asked: set[str] = set()
        self._wake = asyncio.Event()
        self._chains: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def notify(self, session_id: str) -> None:
        """A turn committed events for this session: deliver them now."""
        self._asked.add(session_id)
        self._wake.set()

    async def run(self) -> None:
        """The background task the app's lifespan starts."""
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            self._client = client
            loop = asyncio.get_running_loop()
            report_at = loop.time()
            try:
                while True:
                    try:
                        await self.deliver_due()
                        if loop.time() >= report_at:
                            await self._report_backlog()
                            report_at = loop.time() + BACKLOG_EVERY_SECONDS
                    except Exception:  # keep delivering; a store hiccup must not end the task
                        log.exception("webhook delivery round failed")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll)
                    self._wake.clear()
            finally:
                for task in list(self._chains):
                    task.cancel()
                await asyncio.gather(*self._chains, return_exceptions=True)

    async def deliver_due(self) -> None:
        """Claim what is due (the sessions asked for first) and start delivering it."""
        asked, self._asked = self._asked, set()
        claimed: list[OutboxEvent] = []
        for session_id in asked:
            claimed += await self._store.claim_events(self.owner, self._lease, 1, session_id)
        claimed += await self._store.claim_events(self.owner, self._lease, 32)
        for event in claimed:
            task = asyncio.create_task(self._session_in_order(event))
            self._chains.add(task)
            task.add_done_callback(self._chains.discard)

    async def _session_in_order(self, event: OutboxEvent | None) -> None:
        """One session's events, one at a time, oldest first, until one fails (it is retried
        later, and the later ones wait for it)."""
        while event is not None:
            async with self._slots:
                delivered = await self._attempt(event)
            if not delivered:
                return
            more = await self._store.claim_events(self.owner, self._lease, 1, event.session_id)
            event = more[0] if more else None

    async def _attempt(self, event: OutboxEvent) -> bool:
        if event.attempts:
            self._metrics.webhooks.labels("retried").inc()
        sent_at = datetime.now(UTC)  # the receiver checks it against its own clock
        headers = {"content-type": "application/json", "webhook-id": event.id,
                   "webhook-timestamp": str(int(sent_at.timestamp())),
                   "webhook-signature": self._webhook.sign(event.id, sent_at, event.payload)}
        assert self._client is not None
        try:
            response = await self._client.post(self._url, content=event.payload,
                                               headers=headers)
            problem = None if response.is_success else f"answered {response.status_code}"
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            await self._store.event_delivered(event, self.owner)
            self._metrics.webhooks.labels("delivered").inc()
            log.info("webhook %s (%s, session %s) delivered", event.id, event.type,
                     event.session_id)
            return True
        delay = backoff(event.attempts + 1, self._first, self._cap)
        await self._store.event_failed(event, self.owner, delay)
        self._metrics.webhooks.labels("failed").inc()
        log.warning("webhook %s (%s, session %s) attempt %d failed (%s); next in %.1f s",
                    event.id, event.type, event.session_id, event.attempts + 1, problem, delay)
        return False

    async def _report_backlog(self) -> None:
        count, oldest = await self._store.outbox_backlog()
        self._metrics.webhook_backlog.set(count)
        self._metrics.webhook_oldest.set(0 if oldest is None else
                                         max(0.0, (now_us() - oldest) / 1e6))
