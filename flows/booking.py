"""Book or move a visit: check access needs, offer up to three windows that fit, book
atomically, and confirm in writing who is coming and how to check them.

```
book:   CHECK_NEEDS --yes--> [CHOOSE_JOB] --> OFFER --choice--> BOOKING --booked--> DONE
          |no                                   |  ^  \\other        |taken
          v                                     v  |   v             v
        ASK_NEEDS --words--> CONSENT ---------> ASK_TIMES          OFFER (fresh, with apology)
rebook: [CHOOSE_VISIT] --> OFFER --> BOOKING --> DONE
no window can meet the time of day said: NO_FIT --1--> OFFER (the nearest) | --times--> OFFER
no open job: DESCRIBE --words--> DONE (repair request for staff triage)
```
Every step but BOOKING and DESCRIBE first keeps what the message says about times
(`_hearing`; flows/slots.py): "yes, after 3 pls" answers the question and keeps "after 3".
Timeout: 24 hours; an abandoned booking puts the job on the staff's unbooked list.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from flows import access, slots
from flows.actions import (
    Action,
    BookVisit,
    ConfirmAccessNeeds,
    MoveVisit,
    NotifyNominee,
    RaiseTask,
    ReportRepair,
    SetLanguage,
)
from flows.choices import is_skip, pick, yes_no
from flows.context import AppointmentView, FlowInput, JobView, StepContext
from flows.engine import ConversationState, Flow, Handler, StepResult
from flows.messages import Option, Reply
from flows.slot_data import BookSlots, NeedSlots
from flows.sms import sms_body, sms_cost
from flows.wording import times as time_words
from flows.wording import visits as words
from storage.enums import JobPriority, TaskKind


class BookState(StrEnum):
    CHECK_NEEDS = "check_needs"
    ASK_NEEDS = "ask_needs"
    CONSENT = "consent"
    CHOOSE_JOB = "choose_job"
    CHOOSE_VISIT = "choose_visit"
    OFFER = "offer"
    ASK_TIMES = "ask_times"
    NO_FIT = "no_fit"
    BOOKING = "booking"
    DESCRIBE = "describe"
    DONE = "done"


TIMEOUT = timedelta(hours=24)
MY_VISITS: list[list[object]] = [["1", "My visits", "appointments", None]]
NOTHING_TO_BOOK = Reply(
    "That repair is no longer waiting for this visit: it has been booked, changed or done "
    "since. Reply 1 to see your visits.",
    (Option("1", "My visits"),),
)


def _job(state: ConversationState, ctx: StepContext) -> JobView | None:
    job_id = BookSlots.of(state.data).job_id
    if ctx.resident is None or job_id is None:
        return None
    return ctx.resident.job(job_id)


def _moving(state: ConversationState, ctx: StepContext) -> AppointmentView | None:
    appointment_id = BookSlots.of(state.data).appointment_id
    if ctx.resident is None or appointment_id is None:
        return None
    return ctx.resident.appointment(appointment_id)


def _offered(state: ConversationState) -> list[tuple[date, str]]:
    return list(BookSlots.of(state.data).offers)


def _offer_reply(state: ConversationState, ctx: StepContext) -> Reply:
    """The offer; a "nothing fits" lead is cut down to keep it one SMS segment."""
    labels = [slots.label(d, w, ctx.windows) for d, w in _offered(state)]
    full = BookSlots.of(state.data).offer_lead
    reply = words.offer(labels, lead=full)
    for lead in time_words.shorter_leads(full):
        if sms_cost(sms_body(reply.text, reply.options)).segments <= 1:
            break
        reply = words.offer(labels, lead=lead)
    return reply


def _preference(state: ConversationState, ctx: StepContext) -> slots.Preference:
    """What the resident has said about times so far in this conversation."""
    preference = slots.Preference.from_data(BookSlots.of(state.data).pref, ctx.zone)
    moving = _moving(state, ctx)
    if moving is not None and BookSlots.of(state.data).other_day:
        preference = slots.without_day(preference, moving.day)
    return preference


def _hear(state: ConversationState, message: FlowInput, ctx: StepContext) -> ConversationState:
    """Keep what a message says about times for the rest of the conversation."""
    heard = slots.hear(message, ctx)
    if heard.empty:
        return state
    kept = slots.Preference.from_data(BookSlots.of(state.data).pref, ctx.zone)
    data: dict[str, object] = {"pref": kept.then(heard.preference).to_data()}
    if heard.wishes.other_day:
        data["other_day"] = True
    return state.with_data(**data)


def _hearing(handler: Handler, *, choosing: bool = False) -> Handler:
    """A step that first keeps what the message says about times ("yes, after 3 pls").
    `choosing`: the step asks which one of a list; a choice ("the one on friday") is not
    a time wish."""

    def step(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
        prompt = FLOW.prompt(state, ctx)
        if choosing and prompt is not None and pick(message, prompt.options) is not None:
            return handler(state, message, ctx)
        heard = _hear(state, message, ctx)
        result = handler(heard, message, ctx)
        if result is None and heard is not state and slots.only_times(message, ctx):
            # Times said instead of an answer: keep them, say so, and ask again.
            noted = time_words.noted(_preference(heard, ctx))
            question = FLOW.prompt(heard, ctx)
            if question is None:
                return StepResult(heard, (Reply(noted),))
            return StepResult(heard, (Reply(f"{noted} {question.text}", question.options),))
        return result

    return step


def _offer(state: ConversationState, ctx: StepContext, *lead: Reply) -> StepResult:
    """Offer windows that fit the job, what is free, and what the resident has said."""
    job = _job(state, ctx)
    if job is None:
        return StepResult(state.goto(BookState.DONE), (*lead, words.nothing_free(asked=False)))
    moving = _moving(state, ctx)
    preference = _preference(state, ctx)
    free = [
        s
        for s in slots.candidate_slots(ctx, trade=job.trade)
        if moving is None or (s.day, s.window) != (moving.day, moving.window)
    ]
    choice = slots.choose(free, preference, ctx.zone)
    chosen = choice.windows
    offer_lead = time_words.nearest_lead(preference) if choice.nearest else ""
    if not chosen and choice.fallback:
        if not BookSlots.of(state.data).nearest_ok:
            # No visit window can meet that time of day: say so, offer the nearest on request.
            return FLOW.ask(state.goto(BookState.NO_FIT), ctx, *lead)
        chosen, offer_lead = choice.fallback, time_words.nearest_lead(preference)
    if not chosen:
        task = RaiseTask(
            kind=TaskKind.UNBOOKED,
            summary=f"No free windows to offer for {job.reference}",
            urgent=False,
        )
        return StepResult(
            state.goto(BookState.DONE),
            (*lead, _nothing_free(preference), _will_call(ctx)),
            (task,),
        )
    offered = state.goto(
        BookState.OFFER,
        offers=[[d.isoformat(), w] for d, w in chosen],
        offer_lead=offer_lead,
    )
    return StepResult(offered, (*lead, _offer_reply(offered, ctx)))


def _nothing_free(preference: slots.Preference) -> Reply:
    if preference.said_times:
        return Reply(time_words.nothing_fits(preference))
    return words.nothing_free(asked=not preference.empty)


def _will_call(ctx: StepContext) -> Reply:
    return Reply(
        f"Our team will call you to arrange a time. You can also call {ctx.landlord.phone}."
    )


def _after_needs(state: ConversationState, ctx: StepContext, *lead: Reply) -> StepResult:
    resident = ctx.resident
    assert resident is not None
    if BookSlots.of(state.data).job_id is None:
        if not resident.open_jobs:
            # Booked meanwhile (from another channel, or by staff): nothing left to book.
            return FLOW.ask(state.goto(BookState.DESCRIBE), ctx, *lead)
        if len(resident.open_jobs) > 1:
            return FLOW.ask(state.goto(BookState.CHOOSE_JOB), ctx, *lead)
        state = state.with_data(job_id=resident.open_jobs[0].id)
    return _offer(state, ctx, *lead)


def _check_needs(
    state: ConversationState, message: FlowInput, ctx: StepContext
) -> StepResult | None:
    """'yes' / 'no nothings changed' keep the needs on record; 'no' asks what has changed;
    'yes and i have a cat now too' keeps them and asks about sharing the cat; 'no, i use a
    frame now' replaces them with the new words (after asking about sharing)."""
    answer = True if access.still_right(message) else yes_no(message)
    new_words = access.tells_more(message)
    if answer is None and not new_words:
        return None
    if new_words:
        adding = answer is True or access.adds_to_record(message)
        asked = state.goto(
            BookState.CONSENT,
            need_words=message.text.strip(),
            need_category=access.category_of(message),
            replacing=not adding,
        )
        confirm = (ConfirmAccessNeeds(),) if adding else ()
        result = FLOW.ask(asked, ctx)
        return StepResult(result.state, result.replies, confirm)
    if answer:
        done = _after_needs(state, ctx)
        return StepResult(done.state, done.replies, (ConfirmAccessNeeds(), *done.actions))
    return FLOW.ask(state.goto(BookState.ASK_NEEDS, replacing=True, changing=True), ctx)


def _ask_needs(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    """'no nothing thanks' goes on to the times; 'text me in polish' sets the language and
    goes on; a change of consent changes the needs on record and goes on; anything else
    is a need in the resident's words, asked about sharing first."""
    answer = access.read_answer(message, ctx)
    if not answer.understood:
        return None
    if answer.question is not None:
        return FLOW.ask(state, ctx, answer.question)
    if answer.nothing:
        return _after_needs(state, ctx)
    lead: tuple[Reply, ...] = ()
    actions: tuple[Action, ...] = ()
    if answer.language is not None:
        lead = (words.language_noted(answer.language.name, planned=answer.language.planned),)
        actions = (SetLanguage(answer.language.code),)
    elif answer.sharing is not None:
        changed = access.change_sharing(ctx, share=answer.sharing)
        lead, actions = changed.replies, changed.actions
    if not answer.need:
        done = _after_needs(state, ctx, *lead)
        return StepResult(done.state, done.replies, (*actions, *done.actions))
    asked = state.goto(
        BookState.CONSENT,
        need_words=message.text.strip(),
        need_category=access.category_of(message),
    )
    result = FLOW.ask(asked, ctx, *lead)
    return StepResult(result.state, result.replies, actions)


def _consent(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    answer = access.consent_given(message)
    if answer is None:
        return None
    done = _after_needs(state, ctx, words.need_noted_briefly(shared=answer))
    return StepResult(done.state, done.replies, (access.record(state, answer), *done.actions))


def _choose_job(
    state: ConversationState, message: FlowInput, ctx: StepContext
) -> StepResult | None:
    resident = ctx.resident
    assert resident is not None
    key = pick(message, words.choose_job(resident.open_jobs).options)
    if key is None:
        return None
    return _offer(state.with_data(job_id=resident.open_jobs[int(key) - 1].id), ctx)


def _choose_visit(
    state: ConversationState, message: FlowInput, ctx: StepContext
) -> StepResult | None:
    resident = ctx.resident
    assert resident is not None
    key = pick(message, words.choose_visit(resident.appointments, doing="move").options)
    if key is None:
        return None
    appointment = resident.appointments[int(key) - 1]
    return _offer(state.with_data(appointment_id=appointment.id, job_id=appointment.job.id), ctx)


def _choose(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    offered = _offered(state)
    reply = _offer_reply(state, ctx)
    heard = slots.hear(message, ctx)
    # "thursday at 2" names a time, not option 2
    key = pick(slots.without_times(message, heard), reply.options)
    if key is not None:
        index = int(key) - 1
        if index >= len(offered):
            return FLOW.ask(state.goto(BookState.ASK_TIMES), ctx)
        return _book(state, ctx, *offered[index])
    if heard.empty:
        return None
    if heard.wishes.none_suit:
        turned_down = slots.Preference(declined=tuple(offered))
        state = state.with_data(pref=_preference(state, ctx).then(turned_down).to_data())
        if not heard.preference.said_times and not heard.wishes.other_day:
            return FLOW.ask(state.goto(BookState.ASK_TIMES), ctx)
    elif heard.preference.wanted:
        # "thursday afternoon" naming exactly one of the offered windows books it
        named = {
            (d, w)
            for d, w in offered
            for s in ctx.slots
            if (s.day, s.window) == (d, w) and heard.preference.fits(s, ctx.zone)
        }
        if len(named) == 1:
            return _book(state, ctx, *named.pop())
    return _offer(state, ctx)


def _ask_times(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    if slots.hear(message, ctx).empty and not slots.any_time(message):
        return None
    return _offer(state, ctx)


def _no_fit(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    """No window meets the time of day they said: the nearest anyway, or other times."""
    heard = slots.hear(message, ctx)
    options = time_words.cannot_fit(_preference(state, ctx)).options
    if pick(message, options) == "1" or (heard.empty and yes_no(message) is True):
        return _offer(state.with_data(nearest_ok=True), ctx)
    if heard.empty and not slots.any_time(message):
        return None
    return _offer(state, ctx)


def _times_or_needs(
    state: ConversationState, message: FlowInput, ctx: StepContext
) -> StepResult | None:
    """An answer about when ("any time after the school run") is not an access need."""
    if slots.only_times(message, ctx):
        return _after_needs(state, ctx)
    return _ask_needs(state, message, ctx)


def _book(state: ConversationState, ctx: StepContext, day: date, window: str) -> StepResult:
    job = _job(state, ctx)
    moving = _moving(state, ctx)
    if (
        job is None
        or (moving is None and job.status != "open")
        or (moving is not None and moving.status != "booked")
    ):
        # Done, called off or booked from another channel since the times were offered.
        return StepResult(state.goto(BookState.DONE, menu=MY_VISITS), (NOTHING_TO_BOOK,))
    if slots.free_slot(ctx, day=day, window=window, trade=job.trade) is None:
        return _offer(state, ctx, words.slot_taken())
    action: Action
    if moving is not None:
        action = MoveVisit(appointment_id=moving.id, version=moving.version, day=day, window=window)
    else:
        action = BookVisit(job_id=job.id, day=day, window=window)
    return StepResult(state.goto(BookState.BOOKING), (), (action,), follow_up=True)


def _booking(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    appointment_id = message.outcomes.booked if message.outcomes else None
    resident = ctx.resident
    if appointment_id is None or resident is None:
        return _offer(state, ctx, words.slot_taken())
    appointment = resident.appointment(appointment_id)
    assert appointment is not None
    replies = words.confirmation(appointment, ctx.landlord)
    actions: tuple[Action, ...] = ()
    if resident.nominee_name:
        actions = (
            NotifyNominee(
                appointment_id=appointment.id,
                text=words.nominee_copy(resident, appointment),
            ),
        )
    done = state.goto(BookState.DONE, menu=visit_menu(appointment.id))
    return StepResult(done, replies, actions)


def visit_menu(appointment_id: int) -> list[list[object]]:
    return [
        ["1", "Change the time", "rebook", appointment_id],
        ["2", "Call the visit off", "cancel", appointment_id],
    ]


def _describe(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    text = message.text.strip()
    if is_skip(message) or len(text) < 3:
        return None
    request = ReportRepair(description=text, priority=JobPriority.ROUTINE)
    return StepResult(state.goto(BookState.DONE), (words.repair_logged(text),), (request,))


FLOW = Flow(
    name="book",
    states=BookState,
    handlers={
        BookState.CHECK_NEEDS: _hearing(_check_needs),
        BookState.ASK_NEEDS: _hearing(_times_or_needs),
        BookState.CONSENT: _hearing(_consent),
        BookState.CHOOSE_JOB: _hearing(_choose_job, choosing=True),
        BookState.CHOOSE_VISIT: _hearing(_choose_visit, choosing=True),
        BookState.OFFER: _hearing(_choose),
        BookState.ASK_TIMES: _hearing(_ask_times),
        BookState.NO_FIT: _hearing(_no_fit),
        BookState.BOOKING: _booking,
        BookState.DESCRIBE: _describe,
    },
    prompts={
        BookState.CHECK_NEEDS: lambda s, c: words.needs_check(
            c.resident.access_needs if c.resident else ()
        ),
        BookState.ASK_NEEDS: lambda s, c: (
            words.ask_new_needs() if NeedSlots.of(s.data).changing else words.ask_needs()
        ),
        BookState.CONSENT: lambda s, c: words.ask_consent(NeedSlots.of(s.data).need_words),
        BookState.CHOOSE_JOB: lambda s, c: words.choose_job(
            c.resident.open_jobs if c.resident else ()
        ),
        BookState.CHOOSE_VISIT: lambda s, c: words.choose_visit(
            c.resident.appointments if c.resident else (), doing="move"
        ),
        BookState.OFFER: _offer_reply,
        BookState.ASK_TIMES: lambda s, c: words.ask_times(),
        BookState.NO_FIT: lambda s, c: time_words.cannot_fit(_preference(s, c)),
        BookState.DESCRIBE: lambda s, c: words.no_open_job(c.landlord),
    },
    start=BookState.CHECK_NEEDS,
    end=BookState.DONE,
    timeout=TIMEOUT,
    on_timeout="unbooked",
)


def start_booking(message: FlowInput, ctx: StepContext, *, job_id: int | None = None) -> StepResult:
    """Book a visit, keeping any times the first message named ("can the plumber come
    half 2 friday")."""
    resident = ctx.resident
    assert resident is not None
    if not resident.open_jobs:
        return FLOW.ask(FLOW.enter(ctx.now, BookState.DESCRIBE), ctx)
    data: dict[str, object] = {} if job_id is None else {"job_id": job_id}
    first = BookState.CHECK_NEEDS if resident.access_needs else BookState.ASK_NEEDS
    return FLOW.ask(_hear(FLOW.enter(ctx.now, first, **data), message, ctx), ctx)


def start_rebook(
    message: FlowInput, ctx: StepContext, *, appointment_id: int | None = None
) -> StepResult:
    """Move a visit, keeping any times the message named ("cant do that day now")."""
    resident = ctx.resident
    assert resident is not None
    appointments = resident.appointments
    if appointment_id is not None:
        appointments = tuple(a for a in appointments if a.id == appointment_id)
    if not appointments:
        return StepResult(
            FLOW.enter(ctx.now).goto(BookState.DONE), (words.no_visit_to_change(resident),)
        )
    if len(appointments) > 1:
        return FLOW.ask(_hear(FLOW.enter(ctx.now, BookState.CHOOSE_VISIT), message, ctx), ctx)
    chosen = appointments[0]
    state = FLOW.enter(ctx.now, BookState.OFFER, appointment_id=chosen.id, job_id=chosen.job.id)
    return _offer(_hear(state, message, ctx), ctx)
