"""What happens when no flow is running: greet, show what we can do, route to a flow."""

from __future__ import annotations

from flows import wording
from flows.context import Inbound, StepContext
from flows.engine import ConversationState, StepResult

_MENU_WORDS = {
    "1": "book a visit",
    "2": "show your appointments",
    "3": "check who is at your door",
    "4": "put you through to a person",
}


def idle_step(state: ConversationState, message: Inbound, ctx: StepContext) -> StepResult:
    resident = ctx.resident
    if resident is None:
        return StepResult(state, (wording.unknown_number(ctx.landlord),))
    intent = message.parse.intent.name
    choice = message.option_key or message.text.strip()
    if choice in _MENU_WORDS:
        reply = wording.not_available_yet(resident, _MENU_WORDS[choice])
    elif intent == "greet":
        reply = wording.greeting(resident)
    else:
        reply = wording.menu(resident)
    return StepResult(state, (reply,))
