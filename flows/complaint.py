"""A formal complaint: record it in the resident's words and say what happens next.

```
ASK_DETAILS --words--> LOGGING --(complaint reference)--> DONE
```
Landlords answer stage-one complaints within 10 working days (Housing Ombudsman
Complaint Handling Code), so that is the date we promise.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

from flows.actions import LogComplaint
from flows.choices import is_skip
from flows.context import FlowInput, StepContext
from flows.engine import ConversationState, Flow, StepResult
from flows.slot_data import ComplaintSlots
from flows.wording import complaint as words

RESPONSE_WORKING_DAYS = 10
#: Words that only ask to complain ("how do i put a complaint in", "i want to make a formal
#: complaint about the operative"); what is left is what the complaint is about.
_ASKING_WORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "and",
        "any",
        "anyone",
        "be",
        "can",
        "complain",
        "complaining",
        "complaint",
        "complaints",
        "could",
        "d",
        "do",
        "formal",
        "formally",
        "get",
        "go",
        "hello",
        "hey",
        "hi",
        "hiya",
        "how",
        "i",
        "id",
        "i'd",
        "im",
        "i'm",
        "in",
        "is",
        "it",
        "just",
        "lodge",
        "log",
        "like",
        "make",
        "me",
        "my",
        "need",
        "of",
        "ok",
        "okay",
        "operative",
        "operatives",
        "please",
        "pls",
        "put",
        "raise",
        "register",
        "repair",
        "repairs",
        "so",
        "someone",
        "stage",
        "the",
        "then",
        "there",
        "this",
        "to",
        "u",
        "ur",
        "want",
        "wanna",
        "where",
        "who",
        "wish",
        "with",
        "would",
        "you",
        "your",
    ]
)
#: A first message with at least this many words of its own is the complaint itself.
DETAILS_WORDS = 5


class ComplaintState(StrEnum):
    ASK_DETAILS = "ask_details"
    LOGGING = "logging"
    DONE = "done"


def working_days_after(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _details(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    text = message.text.strip()
    if is_skip(message):
        return StepResult(state.goto(ComplaintState.DONE), (words.nothing_logged(),))
    if len(text) < 3:
        return None
    return _log(state, ctx, text)


def _log(state: ConversationState, ctx: StepContext, text: str) -> StepResult:
    respond_by = working_days_after(ctx.today, RESPONSE_WORKING_DAYS)
    record = LogComplaint(
        text=text,
        respond_by=respond_by,
        appointment_id=ComplaintSlots.of(state.data).appointment_id,
    )
    return StepResult(
        state.goto(ComplaintState.LOGGING, respond_by=respond_by.isoformat()),
        (),
        (record,),
        follow_up=True,
    )


def _logged(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    reference = message.outcomes.complaint_reference if message.outcomes else None
    respond_by = ComplaintSlots.of(state.data).respond_by
    assert respond_by is not None  # set when the complaint went to be logged
    reply = words.logged(reference, respond_by, RESPONSE_WORKING_DAYS)
    return StepResult(state.goto(ComplaintState.DONE), (reply,))


FLOW = Flow(
    name="complaint",
    states=ComplaintState,
    handlers={ComplaintState.ASK_DETAILS: _details, ComplaintState.LOGGING: _logged},
    prompts={ComplaintState.ASK_DETAILS: lambda s, c: words.ask_details()},
    start=ComplaintState.ASK_DETAILS,
    end=ComplaintState.DONE,
    timeout=timedelta(hours=24),
)


def says_what_happened(text: str) -> bool:
    """Whether a message asking to complain also says what the complaint is about ("the
    operative never came and nobody rang me, i want to complain"), rather than only asking
    how ("hiya how do i put a complaint in then")."""
    own = [w for w in re.findall(r"[a-z']+", text.lower()) if w not in _ASKING_WORDS]
    return len(own) >= DETAILS_WORDS


def start(message: FlowInput, ctx: StepContext, *, appointment_id: int | None = None) -> StepResult:
    state = FLOW.enter(ctx.now, appointment_id=appointment_id)
    if message.parse.intent.name == "make_complaint" and says_what_happened(message.text):
        return _log(state, ctx, message.text.strip())
    return FLOW.ask(state, ctx)
