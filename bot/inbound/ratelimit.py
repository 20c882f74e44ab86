"""A per-sender limit on the webhooks, so one flooding number cannot starve everyone else.

Each sender (an SMS From number, a Telegram user id, a simulator phone) has a token
bucket: `capacity` messages at once, refilled at `capacity` per `period_seconds` (30 a
minute by default, far beyond anyone typing). The check runs after the webhook's
signature or secret is verified, so a forger cannot spend a real resident's tokens.
A refused request does not spend a token, so a sender who slows down is served again.

What an excess message gets depends on what the channel does with an error:

- Telegram and the simulator answer 429 with Retry-After. Telegram delivers the update
  again later (the update id makes a repeat a no-op), so nothing is lost; the simulator's
  user sees the refusal.
- Twilio is answered 200 and the text is stored for the record, marked processed with
  intent `rate_limited`, and never answered. A 429 would make Twilio deliver the same
  flood again and again (a retry storm that could itself crowd out other residents), and
  replying to a flood would cost money per segment. The text is in the transcript where
  staff see it; the flood's sender is answered again as soon as their bucket refills.

Never limited, whatever the bucket says: a report of an emergency (gas, flooding, ...) and
a carrier keyword (STOP, START, ...), because safety advice and an opt-out must not wait
behind a flood. Such a message still spends a token if there is one.

Buckets live in memory per process: with two web workers a sender may get up to twice
the limit, which is fine for a limit meant to stop floods, not to meter. The number of
buckets is bounded (least recently used forgotten first); a forgotten sender starts again
with a full bucket, which only matters past `max_senders` distinct senders in one refill
period, and those must all pass Twilio's signature or Telegram's secret.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flows.safety import carrier_keyword, detect_emergency

log = logging.getLogger(__name__)

#: Messages per minute per sender when the settings do not say otherwise.
DEFAULT_PER_MINUTE = 30
#: Senders remembered at once per process.
MAX_SENDERS = 50_000
#: The intent given to a text stored but not answered because its sender was flooding.
RATE_LIMITED_INTENT = "rate_limited"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `capacity` messages in a burst, refilled evenly over `period_seconds`."""

    capacity: int = DEFAULT_PER_MINUTE
    period_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.period_seconds <= 0:
            raise ValueError("a rate limit needs a capacity >= 1 and a positive period")

    @property
    def refill_per_second(self) -> float:
        return self.capacity / self.period_seconds


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    #: Seconds until the next message would be allowed (0 when allowed).
    retry_after: float


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class SenderRateLimiter:
    """Token buckets keyed on the sender; not thread-safe: call it from the event loop."""

    def __init__(
        self,
        limit: RateLimit | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_senders: int = MAX_SENDERS,
    ) -> None:
        self.limit = limit or RateLimit()
        self._monotonic = monotonic
        self._max_senders = max_senders
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, key: str) -> Verdict:
        """Spend one of `key`'s tokens if it has one; a refusal spends nothing."""
        now = self._monotonic()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.limit.capacity), at=now)
        else:
            elapsed = max(0.0, now - bucket.at)
            bucket.tokens = min(
                float(self.limit.capacity),
                bucket.tokens + elapsed * self.limit.refill_per_second,
            )
            bucket.at = now
        self._buckets[key] = bucket  # most recently used last
        while len(self._buckets) > self._max_senders:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict(True, 0.0)
        return Verdict(False, (1.0 - bucket.tokens) / self.limit.refill_per_second)

    @property
    def senders(self) -> int:
        return len(self._buckets)


def webhook_limiter(state: Any, per_minute: int) -> SenderRateLimiter | None:
    """The app's one limiter for all webhooks (kept on `app.state`), or None when off (0)."""
    if per_minute <= 0:
        return None
    limiter: SenderRateLimiter | None = getattr(state, "webhook_rate_limiter", None)
    if limiter is None or limiter.limit.capacity != per_minute:
        limiter = SenderRateLimiter(RateLimit(capacity=per_minute))
        state.webhook_rate_limiter = limiter
    return limiter


def exempt(text: str) -> bool:
    """Messages that go through over the limit: an emergency, an opt-out or opt-in."""
    return carrier_keyword(text) is not None or detect_emergency(text) is not None


def over_limit(
    state: Any, per_minute: int, *, channel: str, sender: str, text: str
) -> Verdict | None:
    """The refusal for this sender's message, or None if it may go through."""
    limiter = webhook_limiter(state, per_minute)
    if limiter is None:
        return None
    verdict = limiter.check(f"{channel}:{sender}")
    if verdict.allowed or exempt(text):
        return None
    log.warning(
        "webhook rate limit: %s sender over %s/min, retry in %.0f s",
        channel,
        per_minute,
        verdict.retry_after,
    )
    return verdict


def retry_after_header(verdict: Verdict) -> dict[str, str]:
    """HTTP's Retry-After: whole seconds, rounded up, at least 1."""
    return {"Retry-After": str(max(1, int(-(-verdict.retry_after // 1))))}
