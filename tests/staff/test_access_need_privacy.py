"""Access needs are special-category data: a viewer never reads them in a transcript.

A resident tells us a need by text (through Twilio's webhook, the fake Twilio API and the
dispatcher, so the replies that quote it are real outbox rows with contact decisions).
Then each role opens the pages that show what was said: the feedback transcript, the
contact log and the visit evidence. Staff and admins read the words; a viewer sees
"[withheld: access need]" where each message carrying the need was, and the words
nowhere on the page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from staff.helpers import SignedIn

from bot.common.clock import FixedClock
from fakes.fake_twilio import FakeTwilio, running
from fakes.sms_harness import MARGARET, sms_settings, sms_world
from flows.needs_privacy import WITHHELD
from nlu.builtin import BuiltinInterpreter
from simphone import Phone
from storage.db import Database
from storage.enums import Direction, StaffRole, TaskKind
from storage.models import Feedback, Message, Resident, StaffTask

NEED = "I am deaf, please text me and do not ring the bell"
DEMO_NEED = "I use a wheelchair, please use the side ramp"  # Margaret's need on record


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeTwilio]:
    yield from running(clock.now)


def _margaret_feedback(db: Database) -> Feedback:
    with db.session() as session:
        margaret = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
        return session.exec(select(Feedback).where(Feedback.resident_id == margaret.id)).one()


def _tell_a_need_by_sms(
    db: Database, clock: FixedClock, interpreter: BuiltinInterpreter, fake: FakeTwilio
) -> Feedback:
    """Margaret, the afternoon after her visit (inside her feedback transcript's period),
    tells us a need and agrees to share it; every reply goes out through Twilio."""
    feedback = _margaret_feedback(db)
    clock.set(feedback.created_at + timedelta(minutes=30))

    async def scenario() -> None:
        async with sms_world(sms_settings(db.url, fake), db, clock, interpreter, fake) as world:
            for text in (NEED, "1"):
                await world.text(text)
                await world.dispatcher.run_once()
        sent = [m["body"] for m in fake.accepted()]
        assert any(f'May we share "{NEED}"' in body for body in sent), sent
        assert any(f'we have noted: "{NEED}"' in body for body in sent), sent

    asyncio.run(scenario())
    return feedback


def _page(viewer: SignedIn, path: str) -> str:
    response = viewer.client.get(path)
    assert response.status_code == 200, response.text
    return response.text


def _margaret_contact_log(db: Database) -> str:
    with db.session() as session:
        margaret = session.exec(select(Resident).where(Resident.mobile == MARGARET)).one()
    return f"/staff/contact-log?resident_id={margaret.id}"


def test_a_viewer_sees_where_a_need_was_withheld_and_never_the_words(
    client: TestClient,
    staff_users: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake: FakeTwilio,
    signed_in: Callable[[StaffRole], SignedIn],
) -> None:
    feedback = _tell_a_need_by_sms(staff_users, clock, interpreter, fake)
    viewer = signed_in(StaffRole.VIEWER)

    transcript = _page(viewer, f"/staff/feedback/{feedback.id}")
    assert "deaf" not in transcript and "ring the bell" not in transcript
    # The need itself, our question quoting it and our confirmation quoting it.
    assert transcript.count(WITHHELD) == 3
    assert "How did the repair visit go?" in transcript  # the rest is still there
    assert re.search(r'class="msg msg-in[^"]*withheld"', transcript)

    log = _page(viewer, _margaret_contact_log(staff_users))
    assert "deaf" not in log and "ring the bell" not in log
    assert log.count(WITHHELD) == 2  # the two replies that quoted it
    assert "reply by sms" in log  # the decisions themselves stay visible


@pytest.mark.parametrize("role", [StaffRole.STAFF, StaffRole.ADMIN])
def test_staff_and_admins_read_the_residents_own_words(
    role: StaffRole,
    client: TestClient,
    staff_users: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    fake: FakeTwilio,
    signed_in: Callable[[StaffRole], SignedIn],
) -> None:
    feedback = _tell_a_need_by_sms(staff_users, clock, interpreter, fake)
    reader = signed_in(role)
    for path in (f"/staff/feedback/{feedback.id}", _margaret_contact_log(staff_users)):
        page = _page(reader, path)
        assert NEED in page
        assert WITHHELD not in page


def test_a_need_on_record_is_withheld_wherever_a_message_repeats_it(
    client: TestClient,
    staff_users: Database,
    clock: FixedClock,
    signed_in: Callable[[StaffRole], SignedIn],
) -> None:
    """No question of ours before it, no telling intent: the words on record are enough,
    on the feedback transcript and on the visit's evidence (page, print and JSON)."""
    feedback = _margaret_feedback(staff_users)
    with staff_users.session() as session:
        first = session.exec(
            select(Message)
            .where(Message.appointment_id == feedback.appointment_id)
            .order_by(Message.created_at)  # type: ignore[arg-type]
        ).first()
        assert first is not None
        session.add(
            Message(
                direction=Direction.INBOUND,
                channel=first.channel,
                address=first.address,
                text=f"Just so you know: {DEMO_NEED.lower()}. Thanks",
                channel_message_id="privacy-1",
                created_at=feedback.created_at + timedelta(minutes=20),
                resident_id=feedback.resident_id,
                appointment_id=feedback.appointment_id,
                intent="thank",
            )
        )
    viewer = signed_in(StaffRole.VIEWER)
    visit = f"/staff/visits/{feedback.appointment_id}"
    for path in (f"/staff/feedback/{feedback.id}", visit, f"{visit}/timeline"):
        page = _page(viewer, path)
        assert "side ramp" not in page, path
        assert WITHHELD in page, path
    exported = viewer.client.get(f"{visit}/timeline.json").json()
    texts = [entry["text"] for entry in exported["timeline"]]
    assert WITHHELD in texts and not any("side ramp" in t for t in texts)
    staff = signed_in(StaffRole.STAFF)
    assert "side ramp" in _page(staff, f"/staff/feedback/{feedback.id}")
    assert "side ramp" in _page(staff, visit)


def test_the_task_page_withholds_the_need_from_a_viewer_only(
    client: TestClient,
    staff_users: Database,
    signed_in: Callable[[StaffRole], SignedIn],
) -> None:
    """The resident tells a need, then asks for a person: the handoff task's conversation."""
    phone = Phone(client, "+447400123457")  # David
    phone.say(NEED)
    phone.say("1")
    phone.say("can i speak to a real person please")
    with staff_users.session() as session:
        task = session.exec(select(StaffTask).where(StaffTask.kind == TaskKind.HANDOFF)).one()
    viewer = signed_in(StaffRole.VIEWER)
    page = _page(viewer, f"/staff/tasks/{task.id}")
    assert "ring the bell" not in page
    assert page.count(WITHHELD) == 3
    assert "can i speak to a real person please" in page
    staff = signed_in(StaffRole.STAFF)
    page = _page(staff, f"/staff/tasks/{task.id}")
    assert NEED in page and WITHHELD not in page
