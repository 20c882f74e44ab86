"""After the visit: a rating, the code-of-conduct points, and an optional comment.

```
RATING --1..5--> SHOWED_ID --> ASKED --> TIDY --> RESPECT --> COMMENT --> DONE
```
Each answer is saved as it comes, so a resident who stops half way still counts. A
rating of 2 or less, any "no", or a comment that is a complaint flags the feedback for
staff review and offers the formal complaint route. Once per visit; it expires after 7
days.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

from flows.actions import SaveFeedback
from flows.choices import is_skip, yes_no
from flows.context import AppointmentView, FlowInput, StepContext
from flows.engine import IDLE, ConversationState, Flow, StepResult
from flows.messages import Option, Reply
from flows.slot_data import FeedbackSlots
from flows.wording.visits import when

WINDOW = timedelta(days=7)
YES_NO = (Option("1", "Yes"), Option("2", "No"))
_RATING_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


class FeedbackState(StrEnum):
    RATING = "rating"
    SHOWED_ID = "showed_id"
    ASKED = "asked_before_facilities"
    TIDY = "left_tidy"
    RESPECT = "respectful"
    COMMENT = "comment"
    DONE = "done"


QUESTIONS: dict[str, str] = {
    FeedbackState.SHOWED_ID: "Did they show you their ID badge?",
    FeedbackState.ASKED: "Did they ask before using your toilet, kitchen or other facilities?",
    FeedbackState.TIDY: "Did they leave your home clean and tidy?",
    FeedbackState.RESPECT: "Did they treat you and your household with respect?",
}
ORDER = (
    FeedbackState.RATING,
    FeedbackState.SHOWED_ID,
    FeedbackState.ASKED,
    FeedbackState.TIDY,
    FeedbackState.RESPECT,
    FeedbackState.COMMENT,
    FeedbackState.DONE,
)


def rating_in(message: FlowInput) -> int | None:
    for entity in message.parse.entities:
        if entity.entity == "rating":
            try:
                value = int(str(entity.value))
            except ValueError:
                continue
            if 1 <= value <= 5:
                return value
    text = message.text.strip().lower()
    found = re.fullmatch(r"\D{0,12}([1-5])(\s*(/|out of)\s*5)?\D{0,20}", text)
    if found:
        return int(found.group(1))
    return _RATING_WORDS.get(text.rstrip(".! "))


def _answer(appointment_id: int, question: str, value: int | bool) -> SaveFeedback:
    """The one answer given at `question` (a state's name is its answer's name)."""
    match question:
        case FeedbackState.RATING:
            return SaveFeedback(appointment_id, rating=int(value))
        case FeedbackState.SHOWED_ID:
            return SaveFeedback(appointment_id, showed_id=bool(value))
        case FeedbackState.ASKED:
            return SaveFeedback(appointment_id, asked_before_facilities=bool(value))
        case FeedbackState.TIDY:
            return SaveFeedback(appointment_id, left_tidy=bool(value))
        case FeedbackState.RESPECT:
            return SaveFeedback(appointment_id, respectful=bool(value))
    raise ValueError(f"no feedback answer is asked at {question!r}")


def _next(state: ConversationState, ctx: StepContext, value: int | bool) -> StepResult:
    here = ORDER.index(FeedbackState(state.state))
    nxt = state.goto(ORDER[here + 1], **{state.state: value})
    save = _answer(_visit_id(state), state.state, value)
    result = FLOW.ask(nxt, ctx)
    return StepResult(result.state, result.replies, (save,))


def _rating(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    rating = rating_in(message)
    if rating is None:
        return None
    return _next(state, ctx, rating)


def _yes_no(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    answer = yes_no(message)
    if answer is None:
        return None
    return _next(state, ctx, answer)


def _comment(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    comment = None if is_skip(message) else message.text.strip()
    complaint = message.parse.intent.name == "make_complaint"
    slots = FeedbackSlots.of(state.data)
    flagged = (slots.rating or 5) <= 2 or slots.any_no or complaint
    save = SaveFeedback(
        appointment_id=_visit_id(state),
        comment=comment,
        flagged=flagged,
        complete=True,
    )
    if not flagged:
        thanks = Reply("Thank you for your feedback. It helps us get repairs right.")
        return StepResult(state.goto(FeedbackState.DONE), (thanks,), (save,))
    sorry = Reply(
        "Thank you, and I am sorry it was not right. Our team will look at what you told us. "
        "If you want to make a formal complaint, reply 1.",
        (Option("1", "Make a formal complaint"),),
    )
    done = state.goto(
        FeedbackState.DONE,
        menu=[["1", "Make a formal complaint", "complaint", _visit_id(state)]],
    )
    return StepResult(done, (sorry,), (save,))


def _rating_prompt(state: ConversationState, ctx: StepContext) -> Reply:
    appointment = _appointment(state, ctx)
    about = f" on {when(appointment)}" if appointment else ""
    return Reply(
        f"How did your repair visit{about} go? Reply with a number from 1 (very poor) "
        "to 5 (very good)."
    )


def _question(state: ConversationState, ctx: StepContext) -> Reply:
    return Reply(QUESTIONS[state.state], YES_NO)


def _appointment(state: ConversationState, ctx: StepContext) -> AppointmentView | None:
    appointment_id = FeedbackSlots.of(state.data).appointment_id
    if ctx.resident is None or appointment_id is None:
        return None
    return ctx.resident.appointment(appointment_id)


def _visit_id(state: ConversationState) -> int:
    """The visit the feedback is about: every feedback conversation starts with one."""
    appointment_id = FeedbackSlots.of(state.data).appointment_id
    assert appointment_id is not None
    return appointment_id


FLOW = Flow(
    name="feedback",
    states=FeedbackState,
    handlers={
        FeedbackState.RATING: _rating,
        FeedbackState.SHOWED_ID: _yes_no,
        FeedbackState.ASKED: _yes_no,
        FeedbackState.TIDY: _yes_no,
        FeedbackState.RESPECT: _yes_no,
        FeedbackState.COMMENT: _comment,
    },
    prompts={
        FeedbackState.RATING: _rating_prompt,
        **{s: _question for s in QUESTIONS},
        FeedbackState.COMMENT: lambda s, c: Reply(
            "Anything else you want to tell us about the visit? Reply 0 to skip."
        ),
    },
    start=FeedbackState.RATING,
    end=FeedbackState.DONE,
    timeout=WINDOW,
)


def due_for_feedback(ctx: StepContext) -> AppointmentView | None:
    """The latest visit completed in the last 7 days that has no feedback yet."""
    resident = ctx.resident
    if resident is None:
        return None
    for appointment in resident.past_appointments:
        recent = ctx.now - appointment.ends_at <= WINDOW
        if appointment.status == "completed" and recent and not appointment.feedback_given:
            return appointment
    return None


def begin(ctx: StepContext, appointment: AppointmentView) -> StepResult:
    """Start the questions for a visit (the scheduler's feedback request does this too)."""
    return FLOW.ask(FLOW.enter(ctx.now, appointment_id=appointment.id), ctx)


def start(message: FlowInput, ctx: StepContext) -> StepResult:
    appointment = due_for_feedback(ctx)
    if appointment is None:
        return StepResult(
            IDLE.with_data(menu=[["1", "Make a complaint", "complaint", None]]),
            (
                Reply(
                    "Thank you. I cannot find a recent visit waiting for feedback. If you want "
                    "to complain about something, reply 1.",
                    (Option("1", "Make a complaint"),),
                ),
            ),
        )
    state = FLOW.enter(ctx.now, appointment_id=appointment.id)
    rating = rating_in(message)
    if rating is not None:
        return _next(state, ctx, rating)
    return FLOW.ask(state, ctx)
