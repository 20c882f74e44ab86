"""The invitation steps (flows.invitations.next_step) in every state a job can be in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from flows.invitations import JobFacts, Sent, Step, next_step
from storage.enums import JobPriority, OutboxStatus

T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)
DAY = timedelta(days=1)
NEW = JobFacts(
    job_id=1,
    reference="HMS-1",
    description="Door sticks",
    priority=JobPriority.ROUTINE,
    resident_first_name="Margaret",
    emergency_phone="0300 555 0199",
)
INVITED = replace(NEW, invited_at=T0, invite=Sent(OutboxStatus.SENT, T0))
FOLLOWED = replace(
    INVITED, followed_up_at=T0 + 2 * DAY, follow_up=Sent(OutboxStatus.DELIVERED, T0 + 2 * DAY)
)


@pytest.mark.parametrize(
    ("facts", "at", "step"),
    [
        (NEW, T0, Step.INVITE),
        (replace(NEW, has_resident=False), T0, Step.LIST),
        (INVITED, T0 + 2 * DAY - timedelta(seconds=1), Step.WAIT),
        (INVITED, T0 + 2 * DAY, Step.FOLLOW_UP),
        # held by hours or caps: the two days count from when it went
        (replace(INVITED, invite=Sent(OutboxStatus.PENDING)), T0 + 5 * DAY, Step.WAIT),
        (replace(INVITED, invite=Sent(OutboxStatus.SENDING)), T0 + 5 * DAY, Step.WAIT),
        (replace(INVITED, invite=Sent(OutboxStatus.SENT, T0 + DAY)), T0 + 2 * DAY, Step.WAIT),
        # could not reach the resident: straight to the staff
        (replace(INVITED, invite=Sent(OutboxStatus.BLOCKED)), T0 + 2 * DAY, Step.LIST),
        (replace(INVITED, invite=Sent(OutboxStatus.FAILED)), T0 + 2 * DAY, Step.LIST),
        (replace(INVITED, invite=Sent(OutboxStatus.EXPIRED)), T0 + 7 * DAY, Step.LIST),
        # a row no longer in the outbox counts as sent when planned
        (replace(INVITED, invite=None), T0 + 2 * DAY, Step.FOLLOW_UP),
        (FOLLOWED, T0 + 4 * DAY - timedelta(seconds=1), Step.WAIT),
        (FOLLOWED, T0 + 4 * DAY, Step.LIST),
        (replace(FOLLOWED, follow_up=Sent(OutboxStatus.PENDING)), T0 + 9 * DAY, Step.WAIT),
        (replace(FOLLOWED, follow_up=Sent(OutboxStatus.BLOCKED)), T0 + 2 * DAY, Step.LIST),
        (replace(NEW, priority=JobPriority.EMERGENCY), T0, Step.EMERGENCY),
        (replace(FOLLOWED, priority=JobPriority.EMERGENCY), T0 + 3 * DAY, Step.EMERGENCY),
        (replace(NEW, priority=JobPriority.EMERGENCY, emergency_planned=True), T0, Step.LIST),
        (replace(NEW, priority=JobPriority.URGENT), T0, Step.INVITE),
    ],
)
def test_next_step(facts: JobFacts, at: datetime, step: Step) -> None:
    assert next_step(facts, now=at) is step
