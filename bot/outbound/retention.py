"""Retention (issue 16, docs/retention.md): personal data kept no longer than needed.

`run_retention` takes each record kind in turn (storage.repositories.retention.Kind,
children before their parents), a batch at a time by primary key, each batch one short
transaction: read the batch's candidates and what holds them, then delete or anonymise
the rest. It returns frozen figures per kind. With `dry_run` every batch is read the same
way and nothing is changed, so the figures say what a real run would do.

Run daily by the scheduler (leader only, `DOORSTEP_RETENTION_AT`, 03:30 UK time by
default) and by `doorstep retention run [--dry-run]`. A real run records its figures (no
personal data: kinds and counts) as an audit event, `retention.run`.

May import: bot.common, bot.settings, flows, storage (like the rest of bot.outbound).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from bot.settings import Settings
from storage.db import Database
from storage.repositories import retention as repo
from storage.repositories.retention import ANONYMISED, Cutoff, Kind

log = logging.getLogger(__name__)

AUDIT_ACTION = "retention.run"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How many days each kind is kept past its clock, and the batch size."""

    days: Mapping[Kind, int]
    batch_size: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        s = settings
        transcripts = s.retention_transcripts_days
        days = {
            Kind.OUTBOX: s.retention_outbox_days,
            Kind.MESSAGES: transcripts,
            Kind.CONVERSATIONS: transcripts,
            Kind.VISIT_TIMELINE: transcripts,
            Kind.DISCLOSURES: transcripts,
            Kind.FEEDBACK: s.retention_feedback_days,
            Kind.COMPLAINTS: s.retention_complaints_days,
            Kind.STAFF_TASKS: s.retention_staff_tasks_days,
            Kind.ACCESS_NEEDS: s.retention_access_needs_grace_days,
            Kind.RESIDENTS: s.retention_residents_days,
            Kind.LINK_TOKENS: s.retention_link_tokens_days,
            Kind.STAFF_SESSIONS: s.retention_staff_sessions_days,
            Kind.LOGIN_ATTEMPTS: s.retention_login_attempts_days,
            Kind.WEBHOOK_DELIVERIES: s.retention_webhook_deliveries_days,
            Kind.LANDLORD_EVENTS: s.retention_landlord_events_days,
            Kind.AUDIT_EVENTS: s.retention_audit_days,
        }
        return cls(days=MappingProxyType(days), batch_size=s.retention_batch_size)

    def cutoff(self, kind: Kind, *, now: datetime, zone: ZoneInfo) -> Cutoff:
        period = timedelta(days=self.days[kind])
        return Cutoff(at=now - period, day=now.astimezone(zone).date() - period)


@dataclass(frozen=True, slots=True)
class KindFigures:
    """What one kind's pass found and did."""

    kind: Kind
    days: int
    examined: int
    deleted: int
    anonymised: int
    kept_for_complaint: int
    kept_active: int
    batches: int
    longest_batch_ms: float

    @property
    def action(self) -> str:
        return "anonymise" if self.kind in ANONYMISED else "delete"


@dataclass(frozen=True, slots=True)
class RetentionFigures:
    dry_run: bool
    at: datetime
    kinds: tuple[KindFigures, ...]
    seconds: float

    @property
    def longest_batch_ms(self) -> float:
        return max((k.longest_batch_ms for k in self.kinds), default=0.0)

    @property
    def changed(self) -> int:
        return sum(k.deleted + k.anonymised for k in self.kinds)

    def detail(self) -> dict[str, Any]:
        """The figures as the audit event keeps them: kinds and counts only."""
        return {
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "longest_batch_ms": round(self.longest_batch_ms, 1),
            "kinds": {
                k.kind.value: {
                    "days": k.days,
                    "examined": k.examined,
                    "deleted": k.deleted,
                    "anonymised": k.anonymised,
                    "kept_for_complaint": k.kept_for_complaint,
                    "kept_active": k.kept_active,
                }
                for k in self.kinds
            },
        }


def run_retention(
    db: Database,
    *,
    policy: RetentionPolicy,
    now: datetime,
    zone: ZoneInfo,
    dry_run: bool = False,
    actor: str = "retention",
) -> RetentionFigures:
    """Every kind, in order; each batch its own transaction. Returns the figures."""
    started = time.perf_counter()
    kinds = tuple(
        _run_kind(db, kind, policy=policy, now=now, zone=zone, dry_run=dry_run) for kind in Kind
    )
    figures = RetentionFigures(
        dry_run=dry_run, at=now, kinds=kinds, seconds=time.perf_counter() - started
    )
    if not dry_run:
        with db.session() as session:
            repo.record_run(
                session, at=now, actor=actor, action=AUDIT_ACTION, detail=figures.detail()
            )
    for k in kinds:
        log.info(
            "retention kind=%s dry_run=%s examined=%d deleted=%d anonymised=%d "
            "kept_for_complaint=%d kept_active=%d batches=%d longest_batch_ms=%.1f",
            k.kind.value,
            dry_run,
            k.examined,
            k.deleted,
            k.anonymised,
            k.kept_for_complaint,
            k.kept_active,
            k.batches,
            k.longest_batch_ms,
        )
    return figures


def _run_kind(
    db: Database,
    kind: Kind,
    *,
    policy: RetentionPolicy,
    now: datetime,
    zone: ZoneInfo,
    dry_run: bool,
) -> KindFigures:
    cutoff = policy.cutoff(kind, now=now, zone=zone)
    limit = policy.batch_size
    after = examined = changed = for_complaint = active = batches = 0
    longest = 0.0
    while True:
        started = time.perf_counter()
        with db.session() as session:
            batch = repo.examine(session, kind=kind, cutoff=cutoff, after_id=after, limit=limit)
            if dry_run:
                done = len(batch.go)
            else:
                done = repo.apply(session, kind=kind, ids=batch.go, cutoff=cutoff, now=now)
        longest = max(longest, (time.perf_counter() - started) * 1000)
        if batch.last_id is None:
            break
        batches += 1
        examined += len(batch.examined)
        for_complaint += len(batch.for_complaint)
        active += len(batch.active)
        changed += done
        after = batch.last_id
        if len(batch.examined) < limit:
            break
    anonymises = kind in ANONYMISED
    return KindFigures(
        kind=kind,
        days=policy.days[kind],
        examined=examined,
        deleted=0 if anonymises else changed,
        anonymised=changed if anonymises else 0,
        kept_for_complaint=for_complaint,
        kept_active=active,
        batches=batches,
        longest_batch_ms=longest,
    )
