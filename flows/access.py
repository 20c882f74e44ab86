"""Access needs: asked, recorded in the resident's own words, shared only with consent.

Used on its own ("I'm deaf, text only please"), from the idle router (what is on record,
a change of consent, a language preference, who will let the operative in) and inside
booking, which checks what is on record before offering times. Both flows read the
answer to "what should the operative know?" through `read_answer`, so "no nothing thanks"
is nothing to add and "text me in polish" is the resident's language everywhere.

```
access: ASK --words--> CONSENT --yes/no--> DONE (need recorded, shared or not)
         | |nothing / language / sharing change
         | v
         | DONE
         +--"why do u need to know?"--> ASK (answered, asked again)
```
Timeout: 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flows import access_reading as reading
from flows import hazards
from flows.access_reading import (
    LanguageChoice,
    arrangement_category,
    asks_what_is_shared,
    asks_why_we_ask,
    consent_change,
    is_access_arrangement,
    language_asked,
    says_nothing_to_add,
)
from flows.actions import Action, RecordAccessNeed, SetLanguage, ShareNeeds
from flows.choices import yes_no
from flows.context import FlowInput, StepContext
from flows.engine import IDLE, ConversationState, Flow, StepResult
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
#: Intents that say the message is about something else than access, even when it mentions
#: who is at home ("no one is in and someone is knocking" is for the door check).
_ELSEWHERE = frozenset(
    {"verify_operative", "report_no_show", "give_feedback", "make_complaint", "cancel_visit"}
)
#: How sure the interpreter must be of one of those to leave the message to it.
_ELSEWHERE_AT = 0.8


def _need_entities(message: FlowInput) -> list[str]:
    return [
        str(e.value)
        for e in message.parse.entities
        if e.entity == "access_need" and str(e.value) in CATEGORIES
    ]


def category_of(message: FlowInput) -> str:
    """The category a need is filed under: what the interpreter found, else what an
    arrangement for getting in is, else other."""
    found = _need_entities(message)
    if found:
        return found[0]
    if is_access_arrangement(message.text):
        return arrangement_category(message.text)
    return "other"


def looks_like_a_need(message: FlowInput) -> bool:
    """Did the message already say what the need is (so we need not ask)?"""
    if says_nothing_to_add(message.text):
        return False
    return (
        bool(_need_entities(message))
        or is_access_arrangement(message.text)
        or len(message.text.split()) >= 4
    )


def still_right(message: FlowInput) -> bool:
    """'no nothings changed', 'same as before': the needs on record stand."""
    return reading.still_right(message.text)


def adds_to_record(message: FlowInput) -> bool:
    """'... too', 'my son will let u in this time': beside what is on record."""
    return reading.adds_to_record(message.text)


#: An answer that is neither yes nor no says a need when it has this many words or more.
_A_NEED_IN_WORDS = 4


def tells_more(message: FlowInput) -> bool:
    """Does an answer to "is that still right?" say a need ("yes, and a cat now", "no, my
    son will let u in this time", "i use a walking frame now")? A plain "yes please go
    ahead" does not."""
    if still_right(message) or says_nothing_to_add(message.text):
        return False
    if _need_entities(message) or is_access_arrangement(message.text):
        return True
    return yes_no(message) is None and len(message.text.split()) >= _A_NEED_IN_WORDS


@dataclass(frozen=True, slots=True)
class Answer:
    """What an answer to "what should the operative know?" turned out to be."""

    #: "no nothing thanks", "none", "0".
    nothing: bool = False
    #: Our messages in a language: the resident's language, not a need.
    language: LanguageChoice | None = None
    #: A change of consent for the needs on record ("actually dont share it").
    sharing: bool | None = None
    #: Words to record as a need (after consent).
    need: bool = False
    #: They asked something back ("why do u need to know"): this answers it, and the
    #: question about needs is asked again.
    question: Reply | None = None

    @property
    def understood(self) -> bool:
        return (
            self.nothing
            or self.need
            or self.language is not None
            or self.sharing is not None
            or self.question is not None
        )


def read_answer(message: FlowInput, ctx: StepContext) -> Answer:
    """Read the answer to our question about needs; never a crash, never a guess stored."""
    text = message.text.strip()
    if says_nothing_to_add(text) or hazards.describes_a_hazard(text):
        # Damp, mould, pests...: a hazard report (flows/hazards.py raises it before any
        # flow), never a need to share with the operative.
        return Answer(nothing=True)
    if asks_what_is_shared(text) and consent_change(text) is None:
        needs = ctx.resident.access_needs if ctx.resident else ()
        return Answer(question=words.shared_so_far(needs))
    if asks_why_we_ask(text):
        return Answer(question=words.why_we_ask())
    language = language_asked(text, message.parse.entities)
    other_needs = [c for c in _need_entities(message) if c not in {"language", "interpreter"}]
    if language is not None:
        # "text me in polish, and i have a big dog": the language, and the dog as a need.
        return Answer(language=language, need=bool(other_needs))
    sharing = consent_change(text)
    has_needs = ctx.resident is not None and bool(ctx.resident.access_needs)
    if sharing is not None and has_needs and not other_needs:
        return Answer(sharing=sharing)
    if len(text) < 2:
        return Answer()
    return Answer(need=True)


def record(state: ConversationState, consent: bool) -> RecordAccessNeed:
    slots = NeedSlots.of(state.data)
    return RecordAccessNeed(
        category=slots.need_category,
        own_words=slots.need_words,
        consent=consent,
        replace_all=slots.replacing,
    )


def consent_given(message: FlowInput) -> bool | None:
    """The answer to "May we share ...?": a change-of-consent phrase wins over yes/no, so
    "ok but dont share it" is a no and "yes u can share it" a yes."""
    sharing = consent_change(message.text)
    return sharing if sharing is not None else yes_no(message)


def _language_actions(answer: Answer) -> tuple[Action, ...]:
    return (SetLanguage(answer.language.code),) if answer.language is not None else ()


def _language_replies(answer: Answer) -> tuple[Reply, ...]:
    choice = answer.language
    return (words.language_noted(choice.name, planned=choice.planned),) if choice else ()


class AccessState(StrEnum):
    ASK = "ask"
    CONSENT = "consent"
    DONE = "done"


def _ask(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    answer = read_answer(message, ctx)
    if not answer.understood:
        return None
    if answer.question is not None:
        return FLOW.ask(state, ctx, answer.question)
    if answer.nothing:
        return StepResult(state.goto(AccessState.DONE), (words.nothing_to_add(),))
    if answer.sharing is not None:
        changed = change_sharing(ctx, share=answer.sharing)
        done = state.goto(AccessState.DONE, **changed.state.data)  # keeps its menu
        return StepResult(done, changed.replies, changed.actions)
    lead, actions = _language_replies(answer), _language_actions(answer)
    if not answer.need:
        return StepResult(state.goto(AccessState.DONE), lead, actions)
    asked = state.goto(
        AccessState.CONSENT, need_words=message.text.strip(), need_category=category_of(message)
    )
    result = FLOW.ask(asked, ctx, *lead)
    return StepResult(result.state, result.replies, actions)


def _consent(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    answer = consent_given(message)
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

#: The menu argument of "Change my needs": what the resident says next replaces the record.
CHANGE = "change"


def start(message: FlowInput, ctx: StepContext, *, arg: object = None) -> StepResult:
    """From "I'm in a wheelchair" straight to consent; from "can I tell you my needs" ask
    first; from "Change my needs" ask what has changed (it replaces what is on record)."""
    state = FLOW.enter(ctx.now)
    if arg == CHANGE:
        return FLOW.ask(state.with_data(replacing=True, changing=True), ctx)
    chose_from_menu = arg is not None or message.option_key is not None
    if not chose_from_menu and not message.text.strip().isdigit() and looks_like_a_need(message):
        return _ask(state, message, ctx) or FLOW.ask(state, ctx)
    return FLOW.ask(state, ctx)


def _needs_menu(ctx: StepContext) -> list[list[object]]:
    needs = ctx.resident.access_needs if ctx.resident else ()
    if not needs:
        return [["1", "Tell you my needs", "access", None]]
    share = not any(need.consent_to_share for need in needs)
    option = words.sharing_option(share=share)
    return [["1", "Change my needs", "access", CHANGE], ["2", option.label, "share_needs", share]]


def summary(ctx: StepContext) -> Reply:
    """'What do you tell the engineer about me?': exactly what is on record and shared."""
    resident = ctx.resident
    assert resident is not None
    return words.needs_on_record(resident.access_needs)


def show_needs(ctx: StepContext) -> StepResult:
    """What is on record and shared, with the menu to change it or its sharing."""
    return StepResult(IDLE.with_data(menu=_needs_menu(ctx)), (summary(ctx),))


def change_sharing(ctx: StepContext, *, share: bool) -> StepResult:
    """'actually dont share it' / 'u can share it now': the needs on record, same records."""
    needs = ctx.resident.access_needs if ctx.resident else ()
    if not needs:
        return show_needs(ctx)
    option = words.sharing_option(share=not share)
    menu = [["2", option.label, "share_needs", not share]]
    reply = words.sharing_changed(needs, shared=share)
    return StepResult(IDLE.with_data(menu=menu), (reply,), (ShareNeeds(consent=share),))


def answer(message: FlowInput, ctx: StepContext) -> StepResult | None:
    """What the idle router hands here before reading the intent: a question about what is
    shared, a language preference, a change of consent, an arrangement for getting in.
    None when the message is none of these."""
    if ctx.resident is None:
        return None
    text = message.text
    sharing = consent_change(text)  # before the question: "u can share it with them now"
    if sharing is None and asks_what_is_shared(text):
        return show_needs(ctx)
    choice = language_asked(text, message.parse.entities)
    if choice is not None:
        if any(c not in {"language", "interpreter"} for c in _need_entities(message)):
            return start(message, ctx)  # the language, and the rest as a need
        reply = words.language_noted(choice.name, planned=choice.planned)
        return StepResult(IDLE, (reply,), (SetLanguage(choice.code),))
    intent = message.parse.intent
    elsewhere = intent.name in _ELSEWHERE and intent.confidence >= _ELSEWHERE_AT
    if sharing is not None and ctx.resident.access_needs and not elsewhere:
        if _need_entities(message):  # "dont tell them about my dog, but i have a cat"
            return start(message, ctx)
        return change_sharing(ctx, share=sharing)
    if is_access_arrangement(text) and not elsewhere and not reading.mentions_booking(text):
        return start(message, ctx)
    return None
