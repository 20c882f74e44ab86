"""Delivering landlord events to webhook subscriptions (issue 14): the landlord's outbox.

Every event (storage/repositories/landlord_events.py) is queued, in the transaction that
made it, as one pending delivery per subscription that wants it. A cycle of the worker:

1. Put back deliveries left `delivering` by a worker that died (`STUCK_AFTER`): they are
   sent again, so delivery is at least once and receivers drop duplicate event ids.
2. Claim due deliveries in one short transaction (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL), only the first waiting event of each (subscription, job): one job's events
   go out in order (storage/repositories/webhooks.py explains the rule).
3. POST each, signed (bot/common/webhook_signing.py), concurrently and bounded, with a
   timeout: a receiver that is slow is a failure like one that is down.
4. Record each outcome: a 2xx is delivered; anything else (a refused connection, a
   timeout, a 500, a redirect) is tried again after the message outbox's backoff
   (30 s doubling to an hour, or the receiver's Retry-After if longer), and is `dead`
   after `max_attempts` tries or once it has waited `max_age` (24 h). Dead deliveries are
   on the staff app's dead-letter list and `doorstep webhooks resend` queues one again.
5. Repeat while anything was claimed: a delivered event lets its job's next one go.

Only the status code or the error's kind is recorded and logged: never the body (it can
hold what residents said) nor the secret, nor the URL (it may carry the receiver's token).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from sqlmodel import Session

from bot.common.webhook_signing import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    new_secret,
    sign,
)
from bot.outbound.dispatcher import Backoff
from flows.clock import Clock
from storage.db import Database
from storage.models import WebhookSubscription
from storage.repositories import landlord_events
from storage.repositories import webhooks as deliveries
from storage.repositories.webhooks import Claimed

log = logging.getLogger(__name__)

MAX_URL: Final = 2000
#: A claim older than this is a dead worker's (a cycle's sends take seconds).
STUCK_AFTER: Final = timedelta(minutes=5)
USER_AGENT: Final = "Doorstep-Webhooks/1"


# -- subscribing ---------------------------------------------------------------------------


class SubscriptionRefused(ValueError):
    """The URL or the event kinds asked for cannot be subscribed to; the message says why."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The URL, if a subscription may use it: https, or http to this machine (tests,
    a receiver beside us); at most 2,000 characters; no credentials in it."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise SubscriptionRefused(f"give a URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise SubscriptionRefused("that is not a URL") from None
    if parts.scheme not in {"https", "http"} or not host:
        raise SubscriptionRefused("the URL must start https:// and name a host")
    if parts.scheme == "http" and not _loopback(host):
        raise SubscriptionRefused("the URL must be https (http only to 127.0.0.1/localhost)")
    if parts.username or parts.password:
        raise SubscriptionRefused("put no user name or password in the URL")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise SubscriptionRefused("the URL has spaces or control characters")
    return url


def check_kinds(kinds: Sequence[str]) -> list[str]:
    """The event kinds asked for (none means every kind), each one we have."""
    wanted = [k.strip() for k in kinds if k.strip()]
    unknown = [k for k in wanted if k not in landlord_events.KINDS]
    if unknown:
        raise SubscriptionRefused(
            f"unknown event type {unknown[0]!r}; the types are: " + ", ".join(landlord_events.KINDS)
        )
    return list(dict.fromkeys(wanted))


@dataclass(frozen=True, slots=True)
class NewSubscription:
    row: WebhookSubscription
    #: Shown once, to whoever made the subscription: the receiver checks signatures with it.
    secret: str


def subscribe(
    session: Session, *, landlord_id: int, url: str, kinds: Sequence[str], now: datetime
) -> NewSubscription:
    """Subscribe a landlord's receiver; raises SubscriptionRefused with the reason."""
    secret = new_secret()
    row = deliveries.create_subscription(
        session,
        landlord_id=landlord_id,
        url=check_url(url),
        secret=secret,
        events=check_kinds(kinds),
        now=now,
    )
    return NewSubscription(row=row, secret=secret)


# -- delivering ----------------------------------------------------------------------------


def body_of(claimed: Claimed) -> bytes:
    """The delivery's body: the event's envelope, as the feed gives it, compact UTF-8."""
    envelope = landlord_events.envelope(
        claimed.event, landlord_reference=claimed.landlord_reference
    )
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class _Outcome:
    status_code: int | None
    error: str
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class WebhookStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0


@dataclass
class WebhookWorker:
    db: Database
    clock: Clock
    worker_id: str = "webhooks"
    batch_size: int = 50
    #: With the backoff (30 s doubling to an hour) 30 tries span about a day: `max_age` is
    #: what usually ends a delivery to a receiver that stays down.
    max_attempts: int = 30
    max_age: timedelta = timedelta(hours=24)
    #: Seconds a receiver has to answer (connect, send, read) before it counts as failed.
    timeout: float = 10.0
    concurrency: int = 16
    backoff: Backoff = field(default_factory=Backoff)

    async def run_once(self, *, rounds: int = 100) -> WebhookStats:
        """Deliver everything due now; returns what happened."""
        stats = WebhookStats()
        stats.released = await asyncio.to_thread(self._release_stuck)
        # aiohttp rather than httpx here: a delivery is one small POST, and aiohttp's client
        # sends them about ten times faster (benchmarks/api.py), keeping a connection per
        # concurrent delivery alive between batches.
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            connector=aiohttp.TCPConnector(limit=self.concurrency),
            headers={"User-Agent": USER_AGENT},
        ) as client:
            for _ in range(rounds):
                claimed = await asyncio.to_thread(self._claim)
                if not claimed:
                    break
                outcomes = await self._post_all(client, claimed)
                await asyncio.to_thread(self._record, claimed, outcomes, stats)
        return stats

    def _release_stuck(self) -> int:
        with self.db.session() as session:
            return deliveries.release_stuck(session, claimed_before=self.clock.now() - STUCK_AFTER)

    def _claim(self) -> list[Claimed]:
        with self.db.session() as session:
            return deliveries.claim_due(
                session,
                now=self.clock.now(),
                size=self.batch_size,
                worker_id=self.worker_id,
                skip_locked=self.db.dialect == "postgresql",
            )

    async def _post_all(
        self, client: aiohttp.ClientSession, claimed: Sequence[Claimed]
    ) -> list[_Outcome]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: Claimed) -> _Outcome:
            async with gate:
                return await self._post(client, item)

        return list(await asyncio.gather(*(one(item) for item in claimed)))

    async def _post(self, client: aiohttp.ClientSession, item: Claimed) -> _Outcome:
        body = body_of(item)
        stamp = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(item.secret, body, timestamp=stamp),
            EVENT_ID_HEADER: str(item.event.id),
            EVENT_TYPE_HEADER: item.event.kind,
            ATTEMPT_HEADER: str(item.attempts),
        }
        try:
            # The answer's body is never read: only its status (and Retry-After) count.
            async with client.post(
                item.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                retry_after = response.headers.get("retry-after")
        except TimeoutError:
            return _Outcome(None, "timeout: no answer in time")
        except aiohttp.ClientError as exc:
            return _Outcome(None, f"could not connect: {exc.__class__.__name__}")
        except Exception as exc:  # the delivery boundary: one bad receiver stops nothing
            log.exception("webhook delivery crashed delivery_id=%s", item.delivery_id)
            return _Outcome(None, f"error: {exc.__class__.__name__}")
        if 200 <= status < 300:
            return _Outcome(status, "")
        return _Outcome(status, f"HTTP {status}", _retry_after(retry_after))

    def _record(
        self, claimed: Sequence[Claimed], outcomes: Sequence[_Outcome], stats: WebhookStats
    ) -> None:
        now = self.clock.now()
        delivered: dict[int, list[int]] = {}
        with self.db.session() as session:
            for item, outcome in zip(claimed, outcomes, strict=True):
                if outcome.delivered:
                    assert outcome.status_code is not None
                    delivered.setdefault(outcome.status_code, []).append(item.delivery_id)
                    stats.delivered += 1
                    continue
                dead = item.attempts >= self.max_attempts or now - item.created_at >= self.max_age
                retry_at = (
                    None if dead else now + self.backoff.delay(item.attempts, outcome.retry_after)
                )
                deliveries.mark_failed(
                    session,
                    delivery_id=item.delivery_id,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    retry_at=retry_at,
                )
                log.warning(
                    "webhook delivery failed delivery_id=%s attempt=%s %s%s",
                    item.delivery_id,
                    item.attempts,
                    outcome.error,
                    "; dead" if dead else "",
                )
                if dead:
                    stats.dead += 1
                else:
                    stats.retried += 1
            for status_code, ids in delivered.items():
                deliveries.mark_all_delivered(
                    session, delivery_ids=ids, status_code=status_code, at=now
                )


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value.strip()), 86400.0)
