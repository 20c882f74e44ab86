"""Prometheus metrics: what an operator watches (messages in and out, policy decisions,
the outbox's live depth, what it finished in the last day and the oldest due message's
age, NLU latency).

One `Metrics` object per process, held by the runtime (no module-level registry), so
tests and several apps in one process never share counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from flows.clock import Clock
from storage.db import Database
from storage.enums import OutboxStatus
from storage.repositories.outbox_stats import (
    FINISHED,
    count_finished_since,
    count_live,
    oldest_due,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: The finished rows a scrape counts: those due in the last day (a bounded read).
FINISHED_WINDOW = timedelta(hours=24)
LIVE = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages_in = Counter(
            "doorstep_messages_in_total",
            "Inbound messages by channel and outcome (processed, duplicate, error).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.messages_out = Counter(
            "doorstep_messages_out_total",
            "Outbound sends by channel and outcome (sent, retried, failed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.policy_decisions = Counter(
            "doorstep_policy_decisions_total",
            "Contact policy decisions at send time, by decision and reason code.",
            ["decision", "reason"],
            registry=self.registry,
        )
        self.nlu_latency = Histogram(
            "doorstep_nlu_parse_seconds",
            "Time to understand one message.",
            ["interpreter"],
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

    def watch_outbox(self, db: Database, clock: Clock) -> None:
        self.registry.register(OutboxCollector(db, clock))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class OutboxCollector(Collector):
    """The outbox's live depth by status, what finished in the last day by status and the
    age of the oldest due message, read at scrape time (the database is the truth;
    several workers would otherwise disagree). Each is an index read bounded by the live
    rows or by the day (storage.repositories.outbox_stats), so a scrape costs the same
    after years of history."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self._clock.now()
        depth = GaugeMetricFamily(
            "doorstep_outbox_messages",
            "Outbox rows waiting to go (pending) or on their way (sending).",
            labels=["status"],
        )
        finished = GaugeMetricFamily(
            "doorstep_outbox_finished_last_24h",
            "Outbox rows due in the last 24 hours that have finished, by status.",
            labels=["status"],
        )
        age = GaugeMetricFamily(
            "doorstep_outbox_oldest_due_seconds",
            "How long the oldest due, unsent outbox message has been waiting.",
        )
        with self._db.session() as session:
            live = count_live(session)
            done = count_finished_since(session, since=now - FINISHED_WINDOW, now=now)
            oldest = oldest_due(session, now=now)
        for status in LIVE:
            depth.add_metric([status.value], float(live.get(status, 0)))
        for status in FINISHED:
            finished.add_metric([status.value], float(done.get(status, 0)))
        if oldest is not None and oldest.tzinfo is None:  # SQLite aggregates lose the zone
            oldest = oldest.replace(tzinfo=UTC)
        age.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        yield depth
        yield finished
        yield age
