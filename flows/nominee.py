"""A resident's nominee texting from their own number (issue 15, item 9).

Landlords record a nominee for residents who want someone involved: an advocate, a
carer, a son or daughter. The nominee already gets a copy of each booking; when they
text us from that number they are recognised as the nominee (not told the number is
unknown) and the conversation is theirs, about the resident they act for.

What a nominee may do, and nothing else (docs/nominees.md):

- see the resident's visits (who is coming, when, the visit code, live status);
- check a caller at the door (the door check, with its attempt limits);
- ask for a person (a staff hand-off that names them as the nominee);
- report an emergency or a hazard at the home (answered in every state, like anyone).

Only the resident may book, change or call off a visit, tell us or change their access
needs (never shown to a nominee), give feedback, complain, or stop and start texts: a
nominee asking is told so, politely, with what they can do. A carrier STOP from the
nominee's phone stops texts to that phone (the carrier does it) and never opts the
resident out.
"""

from __future__ import annotations

from flows.context import NomineeView, StepContext
from flows.engine import IDLE, ConversationState, StepResult
from flows.safety import CARRIER_OPT_IN, CARRIER_OPT_OUT
from flows.wording import nominee as words

#: Router actions (flows/router.py `_start`) a nominee may take as they are.
MAY = frozenset({"verify", "human", "conduct", "thank", "goodbye", "nothing"})
#: Router actions answered in the nominee's own words.
OWN = frozenset({"appointments", "greet", "help", "menu"})


def menu_state(state: ConversationState) -> ConversationState:
    """The state whose menu a bare number answers: the nominee's own menu unless a message
    we sent them set another."""
    return state if state.data.get("menu") else state.with_data(menu=words.MENU_DATA)


def answer(action: str, ctx: StepContext) -> StepResult:
    """The reply to a nominee for a router action: their own version, or a refusal."""
    resident, nominee = ctx.resident, ctx.nominee
    assert resident is not None and nominee is not None
    menu = IDLE.with_data(menu=words.MENU_DATA)
    if action == "appointments":
        return StepResult(menu, (words.visits(resident, today=ctx.today, zone=ctx.zone),))
    if action in OWN:
        return StepResult(menu, (words.greeting(nominee, resident),))
    return StepResult(menu, (words.not_for_nominees(resident),))


def handoff_summary(nominee: NomineeView, said: str) -> str:
    """The staff task's words when a nominee asks for a person (the task names the
    resident they act for)."""
    who = f"{nominee.name} ({nominee.relationship})" if nominee.relationship else nominee.name
    return f"Resident's nominee {who} asked to talk to a person: {said[:200]}"


def carrier(keyword: str, state: ConversationState) -> StepResult | None:
    """A bare carrier keyword from the nominee's phone: the carrier has acted on it for
    that phone; the resident's own opt-out is theirs alone. Nothing to say (the carrier
    confirms); any other keyword is read as words."""
    if keyword in CARRIER_OPT_OUT or keyword in CARRIER_OPT_IN - {"yes"}:
        return StepResult(state)
    return None
