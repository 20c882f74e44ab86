"""What happens before and outside flows: safety first, then the carrier's keywords,
a paused conversation, and routing a fresh message to the right flow.

Order matters. An emergency is answered in every state, even while staff have the
conversation. A bare carrier keyword on SMS has already unsubscribed the resident at
the carrier, so we mirror it and never reply on SMS. Otherwise the idle router reads
the intent (or the number of a menu option) and starts a flow.

Misreadings must not change what Doorstep does. An intent that does (hand the
conversation to a person, raise an alert about a caller or a no-show) acts at once only
when the interpreter is sure of it (`ACT_AT_ONCE`) or the resident sent just the number
of that menu option; otherwise the resident is asked first ("Do you want a member of our
team to contact you? 1 Yes 2 No") and nothing changes until they answer. Opting out in
words is always asked first; the carrier keywords stay exact and immediate (the carrier
has acted on them already). Cancelling a visit always asks (flows/cancel.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flows import (
    access,
    after_emergency,
    booking,
    cancel,
    complaint,
    door,
    feedback,
    hazards,
    nominee,
    paused,
    slots,
)
from flows.actions import (
    Action,
    HandToPerson,
    NotifyOtherChannel,
    OptIn,
    OptOut,
    RaiseTask,
    ReportRepair,
)
from flows.choices import pick, yes_no
from flows.context import FlowInput, StepContext
from flows.engine import IDLE, ConversationState, StepResult
from flows.messages import Option, Reply
from flows.safety import carrier_keyword, detect_emergency
from flows.wording import common, safety
from flows.wording import door as door_words
from flows.wording import visits as visit_words
from storage.enums import Channel, JobPriority, TaskKind

#: Intents strong enough to leave whatever flow the resident is in.
INTERRUPTING = {"opt_out": 0.8, "request_human": 0.8, "verify_operative": 0.85}
SMS_LIKE = {Channel.SMS, Channel.SIMULATOR}
#: Intents that change what Doorstep will do, and how sure the interpreter must be to act
#: on one at once; below that the resident is asked first (see the module's docstring).
#: `opt_out` is not here: it is always asked first. The classifier is as sure of junk as
#: of a real request ("'; DELETE FROM messages; --" reads as opt_out at 1.0, as does the
#: single word "messages"), and a wrong opt-out silently stops a resident's reminders.
#: The carrier keywords are the immediate way to stop, and stay so.
ACT_AT_ONCE = {
    "request_human": 0.9,
    "verify_operative": 0.9,
    "report_no_show": 0.9,
}
#: Below this a "cancel" reading of a message that names a time for a resident with no
#: visit is taken as asking for that time ("can the plumber come half 2 friday").
ACT_AT_ONCE_CANCEL = 0.8
#: What each confirmation does on "yes", by the router action it confirms.
CONFIRMABLE = frozenset({"opt_out", "human", "verify", "no_show", "check_visit"})
#: How long a question "Do you want ...? 1 Yes 2 No" stays open.
CONFIRM_WITHIN = timedelta(hours=1)


def interrupt(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    found = detect_emergency(message.text)
    if found is not None:
        summary = f"EMERGENCY ({found.hazard.value}) reported by text: {message.text[:200]}"
        actions = (
            ReportRepair(
                description=message.text[:500],
                priority=JobPriority.EMERGENCY,
                hazard=found.category,
            ),
            RaiseTask(kind=TaskKind.ALERT, summary=summary, urgent=True),
        )
        # The flow they were in is kept: they can carry on once they are safe. What the
        # advice was is remembered for a reply like "ok im outside now".
        remembered = after_emergency.remember(state, found.hazard.value, ctx)
        return StepResult(remembered, (safety.emergency(found, ctx.landlord),), actions)
    if ctx.resident is None:
        return StepResult(IDLE, (common.unknown_number(ctx.landlord),))
    if not message.text.strip() and message.option_key is None:
        # Blank (or only a picture): a prompt, and whatever they were doing carries on.
        return StepResult(state, (common.blank_message(),))
    keyword = carrier_keyword(message.text) if message.channel in SMS_LIKE else None
    if keyword is not None:
        if ctx.nominee is not None:  # their phone, not the resident's opt-out
            return nominee.carrier(keyword, state)
        return _carrier(keyword, state, ctx)
    # Damp, mould, leaks, pests...: raised for staff in any state, even while paused.
    reported = hazards.answer(state, message, ctx)
    if reported is not None:
        return reported
    followed = after_emergency.follow_up(state, message, ctx)
    if followed is not None:
        return followed
    if ctx.paused:
        return _while_paused(state, message, ctx)
    if state.flow != IDLE.flow:
        intent = message.parse.intent
        if INTERRUPTING.get(intent.name, 2.0) <= intent.confidence:
            return route(IDLE, message, ctx)
    return None


def _carrier(keyword: str, state: ConversationState, ctx: StepContext) -> StepResult | None:
    resident = ctx.resident
    assert resident is not None
    if keyword in {"start", "unstop"} or (keyword == "yes" and resident.sms_opted_out):
        return StepResult(IDLE, (safety.opted_in(),), (OptIn(Channel.SMS),))
    if keyword == "yes":
        return None
    actions: list[Action] = [OptOut(Channel.SMS, carrier_keyword=keyword.upper())]
    if keyword == "cancel":
        actions.append(
            RaiseTask(
                kind=TaskKind.CALLBACK,
                summary=(
                    "Resident texted CANCEL, which unsubscribed them from all texts. They may "
                    "have meant to cancel a visit: please call them."
                ),
                urgent=False,
            )
        )
        if resident.telegram_linked:
            actions.append(
                NotifyOtherChannel(
                    channel=Channel.TELEGRAM,
                    kind="carrier_cancel_notice",
                    text=(
                        "You texted CANCEL, which stops all our text messages. If you meant to "
                        'call off a visit, reply here with 2, or say "call off my visit". '
                        "To get texts again, text START."
                    ),
                )
            )
    # No reply: the carrier has unsubscribed them and sends its own confirmation.
    return StepResult(IDLE, (), tuple(actions))


def _handoff(ctx: StepContext, message: FlowInput) -> StepResult:
    task = RaiseTask(
        kind=TaskKind.HANDOFF,
        summary=(
            nominee.handoff_summary(ctx.nominee, message.text)
            if ctx.nominee is not None
            else f"Resident asked to talk to a person: {message.text[:200]}"
        ),
        urgent=False,
    )
    due = paused.reply_due(ctx)
    state = IDLE.with_data(**{paused.HANDOFF_KEY: due.isoformat()})
    reply = safety.handoff(paused.due_label(due, ctx), ctx.landlord)
    return StepResult(state, (reply,), (task, HandToPerson()))


def reply_by(ctx: StepContext) -> str:
    """When staff will answer a conversation handed over now ("today by 12pm")."""
    return paused.due_label(paused.reply_due(ctx), ctx)


def _while_paused(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult:
    """Staff have this conversation: facts are answered, the rest acknowledged
    (flows/paused.py says which is which)."""
    due = paused.remembered_due(state, ctx)
    ctx = replace(ctx, extras={**ctx.extras, paused.HANDOFF_KEY: due})
    if state.flow == door.FLOW.name:
        checked = door.continue_check(state, message, ctx)
        if checked is not None:
            return paused.keep_due(checked, due)
    if state.flow != IDLE.flow:
        state = IDLE.with_data(**{paused.HANDOFF_KEY: due.isoformat()})
    return paused.keep_due(paused.facts_only(route(state, message, ctx)), due)


def _waiting(ctx: StepContext) -> StepResult:
    """The acknowledgement while staff have the conversation."""
    return StepResult(IDLE, (common.team_has_message(_due_label(ctx), ctx.landlord),))


def _due_label(ctx: StepContext) -> str:
    due = ctx.extras.get(paused.HANDOFF_KEY)
    return paused.due_label(due if isinstance(due, datetime) else paused.reply_due(ctx), ctx)


def _menu_choice(state: ConversationState, message: FlowInput) -> tuple[str, Any, bool] | None:
    """(action, argument, exact): exact when the resident pressed the option's button or
    sent just its number, not a number somewhere in a sentence ("hello #4")."""
    menu = state.data.get("menu") or common.MAIN_MENU_DATA
    options = tuple(Option(str(k), str(label)) for k, label, *_ in menu)
    key = pick(message, options)
    if key is None or (
        len(message.text.split()) > 3
        and message.option_key is None
        and not message.text[0].isdigit()
    ):
        return None
    exact = message.option_key == key or message.text.strip().rstrip(".!") == key
    for k, _label, action, arg in menu:
        if str(k) == key:
            return str(action), arg, exact
    return None


def _is_sure(message: FlowInput, action: str) -> bool:
    """Did the interpreter read `action`'s intent confidently enough to act at once?"""
    intent = message.parse.intent
    return _ACTION_FOR_INTENT.get(intent.name) == action and intent.confidence >= ACT_AT_ONCE.get(
        intent.name, 2.0
    )


def _ask_first(action: str, message: FlowInput, ctx: StepContext) -> StepResult:
    """Ask "Do you want ...? 1 Yes 2 No" before an action that changes what we do."""
    state = _asking(action, message, ctx)
    match action:
        case "opt_out":
            question = safety.confirm_opt_out()
        case "human":
            question = safety.confirm_handoff()
        case "no_show":
            question = door_words.confirm_no_show()
        case _:
            question = door_words.confirm_caller_at_door(
                ctx.landlord, visit_today=door.todays_visit(ctx) is not None
            )
    return StepResult(state, (question,))


def _asking(action: str, message: FlowInput, ctx: StepContext) -> ConversationState:
    """The idle state with an open yes/no question about `action` (see `_open_question`)."""
    until = (ctx.now + CONFIRM_WITHIN).isoformat()
    return IDLE.with_data(confirm={"action": action, "until": until, "said": message.text[:200]})


def _open_question(state: ConversationState, ctx: StepContext) -> dict[str, str] | None:
    asked = state.data.get("confirm")
    if not isinstance(asked, dict) or asked.get("action") not in CONFIRMABLE:
        return None
    try:
        until = datetime.fromisoformat(str(asked.get("until")))
    except ValueError:
        return None
    return {str(k): str(v) for k, v in asked.items()} if ctx.now < until else None


def _answered(
    asked: dict[str, str], answer: bool, message: FlowInput, ctx: StepContext
) -> StepResult:
    action = asked["action"]
    if not answer:
        reply = safety.kept_sending() if action == "opt_out" else common.nothing_changed()
        return StepResult(IDLE, (reply,))
    said = FlowInput(
        text=asked.get("said") or message.text,
        parse=message.parse,
        at=message.at,
        channel=message.channel,
    )
    return _start(action, None, said, ctx, sure=True)


def route(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult:
    """No flow running: pick one from the menu number or the intent."""
    resident = ctx.resident
    if resident is None:
        return StepResult(IDLE, (common.unknown_number(ctx.landlord),))
    asked = _open_question(state, ctx)
    if asked is not None:
        answer = yes_no(message)
        if answer is not None:
            return _answered(asked, answer, message, ctx)
    choice = _menu_choice(nominee.menu_state(state) if ctx.nominee else state, message)
    if choice is not None:
        action, arg, exact = choice
        return _start(action, arg, message, ctx, sure=exact)
    # On a visit day "nobody is here" is read by rule as well as by the classifier (which
    # can take "no ones here yet" for a plain "no", or for a need to note).
    if door.nobody_came_today(message, ctx):
        return _start("no_show", None, message, ctx)
    # What is shared, a language preference, a change of consent, who will let them in.
    about_access = access.answer(message, ctx) if ctx.nominee is None else None
    if about_access is not None:
        return about_access
    action = _ACTION_FOR_INTENT.get(message.parse.intent.name, "menu")
    return _start(_asking_for_a_time(action, message, ctx), None, message, ctx)


#: Words that mean calling a visit off, whatever else the message says.
_CALL_OFF = re.compile(
    r"\b(?:cancel|call(?:ing)?\s+(?:it\s+|the\s+\w+\s+)?off|(?:don'?t|do\s+not|no\s+longer)"
    r"\s+need)\b"
)


def _asking_for_a_time(action: str, message: FlowInput, ctx: StepContext) -> str:
    """ "can the plumber come half 2 friday" from a resident with a repair waiting and no
    visit booked is a booking, though the classifier may read moving or calling off."""
    resident = ctx.resident
    if resident is None or action not in ("rebook", "cancel", "menu"):
        return action
    if resident.appointments or not resident.open_jobs:
        return action
    if action == "cancel" and (
        message.parse.intent.confidence >= ACT_AT_ONCE_CANCEL
        or _CALL_OFF.search(message.text.lower())
    ):
        return action
    heard = slots.hear(message, ctx).preference
    # "need my socket fixed, fridays are no good": a time ruled out, with more said
    asking = heard.wanted or (heard.avoided and not slots.only_times(message, ctx))
    return "book" if asking else action


_ACTION_FOR_INTENT = {
    "greet": "greet",
    "goodbye": "goodbye",
    "thank": "thank",
    "book_visit": "book",
    "inform_time": "book",
    "rebook_visit": "rebook",
    "cancel_visit": "cancel",
    "inform_access_needs": "access",
    "ask_appointment": "appointments",
    "verify_operative": "verify",
    "give_feedback": "feedback",
    "make_complaint": "complaint",
    "ask_code_of_conduct": "conduct",
    "request_human": "human",
    "help": "help",
    "opt_out": "opt_out",
    "opt_in": "opt_in",
    "report_no_show": "no_show",
}


def _start(
    action: str, arg: Any, message: FlowInput, ctx: StepContext, *, sure: bool = False
) -> StepResult:
    """Start what `action` names. `sure`: the resident chose it unmistakably (the exact
    menu number, or "yes" to our question); otherwise an action that changes what we do
    needs a confident reading, or is asked about first."""
    if ctx.nominee is not None and action not in nominee.MAY:
        return nominee.answer(action, ctx)  # their own version, or only the resident may
    resident = ctx.resident
    assert resident is not None
    sure = sure or _is_sure(message, action)
    if ctx.paused and action not in paused.WHILE_PAUSED:
        return _waiting(ctx)
    menu_here = IDLE.with_data(menu=common.MAIN_MENU_DATA)
    opt_channel = Channel.TELEGRAM if message.channel == Channel.TELEGRAM else Channel.SMS
    match action:
        case "book":
            if (
                message.parse.intent.name == "inform_time"
                and resident.appointments
                and not resident.open_jobs
            ):
                return booking.start_rebook(message, ctx)
            return booking.start_booking(message, ctx, job_id=arg)
        case "rebook":
            if (
                arg is None
                and not resident.appointments
                and resident.open_jobs
                and slots.hear(message, ctx).preference.wanted
            ):
                # Nothing to move yet: a time they name books the repair that is waiting.
                return booking.start_booking(message, ctx)
            return booking.start_rebook(message, ctx, appointment_id=arg)
        case "cancel":
            return cancel.start(ctx, appointment_id=arg)
        case "access":
            return access.start(message, ctx, arg=arg)
        case "share_needs":
            return access.change_sharing(ctx, share=bool(arg))
        case "appointments":
            if ctx.paused and not resident.appointments:
                return StepResult(IDLE, (common.no_visits_while_waiting(_due_label(ctx)),))
            reply = visit_words.appointments(resident, today=ctx.today, zone=ctx.zone)
            menu = (
                booking.visit_menu(resident.appointments[0].id)
                if resident.appointments
                else [["1", "Book a repair visit", "book", None]]
            )
            return StepResult(IDLE.with_data(menu=menu), (reply,))
        case "verify":
            if not sure and door.would_alert(message, ctx):
                return _ask_first(action, message, ctx)
            return door.start(message, ctx)
        case "feedback":
            return feedback.start(message, ctx)
        case "complaint":
            return complaint.start(message, ctx, appointment_id=arg)
        case "conduct":
            return StepResult(IDLE, (_conduct(ctx),))
        case "human":
            return _handoff(ctx, message) if sure else _ask_first(action, message, ctx)
        case "help":
            return StepResult(menu_here, (common.help_text(resident),))
        case "opt_out":
            if not sure:
                return _ask_first(action, message, ctx)
            return StepResult(IDLE, (safety.opted_out(),), (OptOut(opt_channel),))
        case "opt_in":
            return StepResult(IDLE, (safety.opted_in(),), (OptIn(opt_channel),))
        case "no_show":
            under_way = door.visit_under_way(ctx)
            if under_way is not None:  # not missed yet: where they are, and an offer to check
                offer = door.not_here_yet(under_way, ctx)
                return replace(offer, state=_asking("check_visit", message, ctx))
            if ctx.paused and door.missed_visit(ctx) is None:
                return _waiting(ctx)  # "still waiting": for our team, not for a visit
            if not sure:
                return _ask_first(action, message, ctx)
            return door.report_no_show(ctx, offer=not ctx.paused)
        case "check_visit":
            return door.check_on_visit(ctx, appointment_id=arg)
        case "at_home":
            return door.resident_is_in(ctx, appointment_id=arg)
        case "greet":
            return StepResult(menu_here, (common.greeting(resident),))
        case "thank":
            return StepResult(IDLE, (common.thanks(resident),))
        case "goodbye":
            return StepResult(IDLE, (common.goodbye(resident),))
        case "nothing":
            return StepResult(IDLE, (common.nothing_changed(),))
        case _:
            return StepResult(menu_here, (common.menu(resident),))


def _conduct(ctx: StepContext) -> Reply:
    link = (
        f" The full code: {ctx.landlord.code_of_conduct_url}"
        if ctx.landlord.code_of_conduct_url
        else ""
    )
    return Reply(
        "What to expect: the operative comes in the agreed window or tells you if late, shows "
        "photo ID and says your visit code, asks before using your facilities, protects your "
        f"floors, leaves your home tidy and treats you with respect.{link}"
    )
