"""Check the person at the door, at any time: who is coming, live status, code checks.

```
start --no visit today--> warn + urgent alert
  |--locked-------------> warn (already alerted)
  |--code in message----> CHECK (match / badge / mismatch)
  v
CHECK_CODE --code--> visit code: reassure
                 \\--> the operative's badge: say whose it is, ask for the visit code (no pass)
                 \\--> anything else: warn + alert (5 tries, then lock)
```
Only the visit code passes. A badge number is public (it is on the visit page and in the
confirmation, and badges are often sequential), so it identifies the operative but never
proves who is at the door. The resident's own password, where set, is said by the
operative and checked by the resident, never texted to us. Only the resident's own number
ever reaches this flow (unknown numbers are answered before any flow runs), so nothing
about a visit is revealed to anyone else.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

from flows.actions import Action, RaiseTask, RecordVisitEvent, WrongDoorCode
from flows.context import AppointmentView, FlowInput, StepContext
from flows.engine import IDLE, ConversationState, Flow, StepResult
from flows.wording import door as words
from storage.enums import TaskKind

MAX_WRONG_CODES = 5
_DIGITS = re.compile(r"(?<![\d+])(\d{4,6})(?!\d)")


class DoorState(StrEnum):
    CHECK_CODE = "check_code"
    DONE = "done"


def todays_visit(ctx: StepContext) -> AppointmentView | None:
    resident = ctx.resident
    if resident is None:
        return None
    for appointment in resident.appointments:
        if appointment.day == ctx.today and appointment.status == "booked":
            return appointment
    return None


def code_in(message: FlowInput) -> str | None:
    for entity in message.parse.entities:
        if entity.entity == "code" and str(entity.value).strip():
            return re.sub(r"\D", "", str(entity.value)) or str(entity.value)
    found = _DIGITS.search(message.text)
    return found.group(1) if found else None


def would_alert(message: FlowInput, ctx: StepContext) -> bool:
    """Would `start` raise an alert (no visit today, or a code that does not match)?"""
    appointment = todays_visit(ctx)
    if appointment is None:
        return True
    if appointment.code_locked:
        return False
    code = code_in(message)
    return code is not None and code not in {
        appointment.visit_code,
        appointment.operative.badge_number,
    }


def _alert(summary: str, appointment: AppointmentView | None) -> Action:
    return RaiseTask(
        kind=TaskKind.ALERT,
        summary=summary,
        urgent=True,
        appointment_id=appointment.id if appointment else None,
    )


def _check(
    state: ConversationState, appointment: AppointmentView, code: str, ctx: StepContext
) -> StepResult:
    resident = ctx.resident
    assert resident is not None
    password = resident.has_door_password
    if code == appointment.visit_code:
        event = RecordVisitEvent(appointment.id, "door_check", {"matched": True})
        return StepResult(
            state.goto(DoorState.DONE), (words.matched(appointment, password=password),), (event,)
        )
    if code == appointment.operative.badge_number:
        # Not a wrong code (the resident read what they were shown), not a pass either.
        event = RecordVisitEvent(appointment.id, "door_check", {"matched": False, "badge": True})
        return StepResult(
            state.goto(DoorState.CHECK_CODE), (words.badge_is_not_a_code(appointment),), (event,)
        )
    wrong = appointment.code_attempts + 1
    actions: list[Action] = [WrongDoorCode(appointment_id=appointment.id, given=code)]
    if wrong >= MAX_WRONG_CODES:
        actions.append(_alert("Door code checks locked after 5 wrong codes", appointment))
        return StepResult(state.goto(DoorState.DONE), (words.locked(ctx.landlord),), tuple(actions))
    actions.append(_alert("Resident gave a door code that did not match", appointment))
    return StepResult(
        state.goto(DoorState.CHECK_CODE),
        (words.mismatch(ctx.landlord, MAX_WRONG_CODES - wrong),),
        tuple(actions),
    )


def _check_code(
    state: ConversationState, message: FlowInput, ctx: StepContext
) -> StepResult | None:
    appointment = todays_visit(ctx)
    if appointment is None or appointment.code_locked:
        return StepResult(state.goto(DoorState.DONE), (words.locked(ctx.landlord),))
    code = code_in(message)
    if code is None:
        return None
    return _check(state, appointment, code, ctx)


def continue_check(
    state: ConversationState, message: FlowInput, ctx: StepContext
) -> StepResult | None:
    """The door check's next step for a conversation in it, or None if this message is
    not part of it (for a paused conversation, where the engine's re-ask does not run)."""
    if state.flow != "door" or state.state != DoorState.CHECK_CODE:
        return None
    return _check_code(state, message, ctx)


FLOW = Flow(
    name="door",
    states=DoorState,
    handlers={DoorState.CHECK_CODE: _check_code},
    prompts={DoorState.CHECK_CODE: lambda s, c: words.ask_visit_code()},
    start=DoorState.CHECK_CODE,
    end=DoorState.DONE,
    timeout=timedelta(minutes=30),
)


def start(message: FlowInput, ctx: StepContext) -> StepResult:
    resident = ctx.resident
    assert resident is not None
    appointment = todays_visit(ctx)
    if appointment is None:
        return StepResult(
            IDLE,
            (words.no_visit_today(ctx.landlord),),
            (_alert("Resident asked to check a caller but has no visit today", None),),
        )
    if appointment.code_locked:
        return StepResult(IDLE, (words.locked(ctx.landlord),))
    state = FLOW.enter(ctx.now)
    code = code_in(message)
    if code is not None:
        return _check(state, appointment, code, ctx)
    identity = words.identity(appointment, ctx.zone, password=resident.has_door_password)
    event = RecordVisitEvent(appointment.id, "identity_asked")
    return StepResult(state, (identity,), (event,))


#: Who did not come, in the words residents use for them.
_WHO = (
    r"(no ?one|no ?body|any ?one|any ?body|((the|my|our|your) )?(engineer|plumber|electrician|"
    r"operative|workm[ae]n|man|guy|bloke|contractor|repair ?man|fitter|gas ?man|joiner|builder)|"
    r"s?he|they)"
)
#: "here" about another day or time ("not here on friday") is not about today's caller.
_NOT_LATER = r"(?! (on|at|in|from|after|before|until|till|tomorrow|next|that|this|all|every)\b)"
#: "Nobody is here (yet)": nobody + here/came, or someone + has not come, or no sign.
_NOBODY_CAME = re.compile(
    r"\b("
    r"no ?(one|body)('?s| is| has| have)? (here|come|came|turned up|shown up|showed up|arrived|"
    rf"been|at the door|at my door|in sight){_NOT_LATER}|"
    rf"{_WHO}('?s| is| has| have)? (not|n'?t|never|still not) (here|come|came|turned up|"
    rf"shown up|showed up|arrived|been){_NOT_LATER}|"
    rf"{_WHO} (never|hasn'?t|haven'?t|has not|have not|didn'?t|did not|isn'?t|is not|"
    rf"aren'?t|are not) (come|came|turn(ed)? up|show(n|ed)? up|arrive[d]?|been|here){_NOT_LATER}|"
    r"(still )?no sign of (him|her|them|the \w+|any ?one|any ?body|any ?\w+)|"
    rf"{_WHO}('?s|'?re| is| are)( running)? late|"
    rf"(still |been )?waiting (for|on) (him|her|them|{_WHO})( to (come|turn up|arrive))?|"
    r"no[ -]show"
    r")\b"
)


def nobody_came_today(message: FlowInput, ctx: StepContext) -> bool:
    """A visit is due (under way today, or its window just passed) and the message says
    nobody has come: read by rule as well as by the classifier, which can take "no ones
    here yet" for a plain "no"."""
    if visit_under_way(ctx) is None and missed_visit(ctx) is None:
        return False
    return says_nobody_came(message.text)


def says_nobody_came(text: str) -> bool:
    """Does `text` say the operative has not come (yet)? "no ones here yet", "hes not
    here", "engineer hasnt turned up", "hes late", "still waiting for the plumber". A
    question about the time ("is anyone coming today") is left to the classifier, which
    reads it as asking about the visit."""
    lowered = text.lower().replace("\u2019", "'")
    lowered = " ".join(re.sub(r"[^a-z' -]+", " ", lowered).split())
    return _NOBODY_CAME.search(lowered) is not None


#: Live statuses that mean the operative reached the home.
ARRIVED = frozenset({"arrived", "done"})


def visit_under_way(ctx: StepContext) -> AppointmentView | None:
    """Today's booked visit whose window has not ended: nobody can have missed it yet."""
    resident = ctx.resident
    if resident is None:
        return None
    waiting = [
        a
        for a in resident.appointments
        if a.status == "booked" and a.day == ctx.today and ctx.now < a.ends_at
    ]
    return min(waiting, key=lambda a: a.starts_at) if waiting else None


def missed_visit(ctx: StepContext) -> AppointmentView | None:
    """The booked visit whose window started, and ended no more than two days ago."""
    resident = ctx.resident
    if resident is None:
        return None
    for appointment in resident.appointments:
        if (
            appointment.status == "booked"
            and appointment.starts_at <= ctx.now <= appointment.ends_at + timedelta(days=2)
        ):
            return appointment
    return None


def not_here_yet(appointment: AppointmentView, ctx: StepContext) -> StepResult:
    """ "Nobody is here yet" inside (or before) the window: the operative's live status and
    expected time, and an offer to check on them (yes: `check_on_visit`). Nothing is
    recorded as missed."""
    reply = words.not_here_yet(appointment, ctx.zone, started=appointment.starts_at <= ctx.now)
    return StepResult(IDLE, (reply,))


def check_on_visit(ctx: StepContext, *, appointment_id: int | None = None) -> StepResult:
    """The resident waiting at home asked us to check on their operative: a staff task
    to contact the operative and tell the resident, and the wait on the visit's record."""
    resident = ctx.resident
    assert resident is not None
    if appointment_id is not None:
        appointment = resident.appointment(appointment_id)
    else:
        appointment = visit_under_way(ctx) or missed_visit(ctx)
    if appointment is None or appointment.status != "booked":
        return StepResult(IDLE, (words.visit_already_finished(),))
    if ctx.now >= appointment.ends_at and appointment.live_status not in ARRIVED:
        return report_no_show(ctx)
    op = appointment.operative
    actions = (
        RecordVisitEvent(appointment.id, "resident_waiting"),
        _alert(
            f"Resident is waiting in for {appointment.job.reference} and asked us to check: "
            f"please contact {op.name} ({op.employer}) and update the resident",
            appointment,
        ),
    )
    return StepResult(IDLE, (words.checking_on_visit(appointment, ctx.landlord),), actions)


def report_no_show(ctx: StepContext, *, offer: bool = True) -> StepResult:
    """Nobody came. Inside the window that is not a missed visit yet: say where the
    operative is. Once the window has passed without an arrival: apologise, record it as
    evidence, alert staff, offer to rebook. If the operative reported arriving, the two
    accounts differ: staff are asked to look into it and nothing is recorded as missed.
    `offer`: offer a new time (not while staff have the conversation)."""
    resident = ctx.resident
    assert resident is not None
    under_way = visit_under_way(ctx)
    if under_way is not None:
        return not_here_yet(under_way, ctx)
    appointment = missed_visit(ctx)
    if appointment is None:
        return StepResult(IDLE, (words.no_show_unknown(ctx.landlord),))
    if appointment.live_status in ARRIVED:
        actions: tuple[Action, ...] = (
            RecordVisitEvent(appointment.id, "no_show_disputed"),
            _alert(
                f"Resident says nobody came for {appointment.job.reference}, but "
                f"{appointment.operative.name} reported {appointment.live_status}: please check",
                appointment,
            ),
        )
        return StepResult(
            IDLE, (words.no_show_disputed(appointment, ctx.landlord, ctx.zone),), actions
        )
    actions = (
        RecordVisitEvent(appointment.id, "no_show_reported"),
        _alert(f"Resident reports nobody came for {appointment.job.reference}", appointment),
    )
    sorry = words.no_show_sorry(appointment, ctx.landlord)
    if not offer:
        return StepResult(IDLE, (sorry,), actions)
    menu = [["1", "Book a new time", "rebook", appointment.id], ["2", "No thanks", "nothing", None]]
    return StepResult(
        IDLE.with_data(menu=menu), (sorry, words.no_show_offer(ctx.landlord)), actions
    )


def resident_is_in(ctx: StepContext, *, appointment_id: int | None) -> StepResult:
    """'Reply 1 if you are in' after the operative could not get in: tell them, keep it."""
    resident = ctx.resident
    assert resident is not None
    appointment = resident.appointment(appointment_id) if appointment_id is not None else None
    if appointment is None or appointment.status != "booked":
        return StepResult(IDLE, (words.visit_already_finished(),))
    event = RecordVisitEvent(appointment.id, "resident_at_home")
    return StepResult(IDLE, (words.told_operative_you_are_in(appointment),), (event,))
