"""Access needs: asked, recorded in the resident's own words, shared only with consent.

Used on its own ("I'm deaf, text only please") and inside booking, which checks what is
on record before offering times.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from flows.actions import RecordAccessNeed
from flows.choices import is_skip, yes_no
from flows.context import FlowInput, StepContext
from flows.engine import ConversationState, Flow, StepResult
from flows.messages import Reply
from flows.slot_data import NeedSlots
from flows.wording import visits as words

#: When a recorded need is next checked with the resident.
REVIEW_AFTER = timedelta(days=365)
CATEGORIES = frozenset(
    {
        "wheelchair", "mobility", "hearing", "sight", "interpreter", "language", "pet",
        "call_ahead", "carer", "mental_health", "sleep_hours", "children", "key_safe", "other",
    }
)  # fmt: skip


def category_of(message: FlowInput) -> str:
    for entity in message.parse.entities:
        if entity.entity == "access_need" and str(entity.value) in CATEGORIES:
            return str(entity.value)
    return "other"


def looks_like_a_need(message: FlowInput) -> bool:
    """Did the message already say what the need is (so we need not ask)?"""
    has_entity = any(e.entity == "access_need" for e in message.parse.entities)
    return has_entity or len(message.text.split()) >= 4


def record(state: ConversationState, consent: bool) -> RecordAccessNeed:
    slots = NeedSlots.of(state.data)
    return RecordAccessNeed(
        category=slots.need_category,
        own_words=slots.need_words,
        consent=consent,
        replace_all=slots.replacing,
    )


class AccessState(StrEnum):
    ASK = "ask"
    CONSENT = "consent"
    DONE = "done"


def _ask(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    if is_skip(message):
        return StepResult(state.goto(AccessState.DONE), (words.nothing_to_add(),))
    if len(message.text.strip()) < 2:
        return None
    asked = state.goto(
        AccessState.CONSENT, need_words=message.text.strip(), need_category=category_of(message)
    )
    return FLOW.ask(asked, ctx)


def _consent(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    answer = yes_no(message)
    if answer is None:
        return None
    review_day = ctx.today + REVIEW_AFTER
    review = f"{review_day.day} {review_day:%b %Y}"
    words_given = NeedSlots.of(state.data).need_words
    reply = words.need_noted(words_given, shared=answer, review=review)
    return StepResult(state.goto(AccessState.DONE), (reply,), (record(state, answer),))


FLOW = Flow(
    name="access",
    states=AccessState,
    handlers={AccessState.ASK: _ask, AccessState.CONSENT: _consent},
    prompts={
        AccessState.ASK: lambda s, c: words.ask_new_needs(),
        AccessState.CONSENT: lambda s, c: words.ask_consent(NeedSlots.of(s.data).need_words),
    },
    start=AccessState.ASK,
    end=AccessState.DONE,
    timeout=timedelta(hours=24),
)


def start(message: FlowInput, ctx: StepContext) -> StepResult:
    """From "I'm in a wheelchair" straight to consent; from "can I tell you my needs" ask first."""
    state = FLOW.enter(ctx.now)
    if looks_like_a_need(message):
        return _ask(state, message, ctx) or FLOW.ask(state, ctx)
    return FLOW.ask(state, ctx)


def summary(ctx: StepContext) -> Reply:
    """'What do you tell the engineer about me?': exactly what is on record and shared."""
    resident = ctx.resident
    assert resident is not None
    return words.needs_on_record(resident.access_needs)


ASKS_WHAT_IS_SHARED = (
    "what do you tell",
    "what do you share",
    "what have you told",
    "what do you say about me",
    "what do you know about me",
    "what info",
    "what information",
    "what do you have on me",
    "what's on record",
    "whats on record",
    "what is on record",
    "what does the engineer know",
    "what will the engineer know",
    "what will you tell",
)


def asks_what_is_shared(message: FlowInput) -> bool:
    text = message.text.lower()
    return any(phrase in text for phrase in ASKS_WHAT_IS_SHARED)
