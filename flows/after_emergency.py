"""The next message after emergency advice: "ok im outside now", "done, what now?".

Emergency advice ends with what to do ("go outside and call the gas emergency line"), so
the resident's next text is often only that they did it. Read afresh it means nothing
(the menu, or a booking), which is the wrong answer to someone standing outside a flat
that smells of gas. For a while after the advice (`REMEMBER_FOR`) such a message gets what
to do next for that emergency and the emergency line's number, in whatever flow the
resident was in. A message that asks for something else is routed as usual.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flows.context import FlowInput, StepContext
from flows.engine import ConversationState, StepResult
from flows.wording import common

#: Where the last emergency is kept in the conversation's data.
KEY = "emergency"
#: How long an "ok, done" still answers the emergency advice.
REMEMBER_FOR = timedelta(hours=2)
#: A message longer than this is about something else, even with "ok" in it.
MAX_WORDS = 14

#: Said alone, these only answer the advice ("ok", "done thanks", "will do").
_ALONE = re.compile(
    r"(ok(ay)?|k+|right|done|did (it|that)|will do|on it|got it|thanks?( you)?|ta|cheers|"
    r"understood)( (ok(ay)?|done|thanks?( you)?|ta|cheers|now|then|x+))*"
)
#: Anywhere in a short message: they followed the advice, or ask what happens now.
_FOLLOWED = re.compile(
    r"\b("
    r"(i'?m|im|i am|we'?re|we are|were|were all|everyone'?s|every ?one is|all of us are|"
    r"kids are|got|gone|went|stood|standing|waiting|wait) ?(all )?(out|outside|safe)|"
    r"outside|out of the (house|flat|building|home)|safe now|"
    r"(turned|switched|shut|put) (it |the \w+ )?off|(turned|switched|shut|put) off|"
    r"(called|rang|phoned|rung) (them|the|it|that|999|0800)|"
    r"what (now|next|do i do|should i do|happens now)|now what|"
    r"(is )?(some ?one|any ?one|an? engineer|the engineer|they|u|you) (coming|on (the|their) way)|"
    r"how long"
    r")\b"
)


def remember(state: ConversationState, hazard: str, ctx: StepContext) -> ConversationState:
    """`state` noting that emergency advice for `hazard` was just given."""
    until = (ctx.now + REMEMBER_FOR).isoformat()
    return state.with_data(**{KEY: {"hazard": hazard, "until": until}})


def recent(state: ConversationState, ctx: StepContext) -> str | None:
    """The hazard of emergency advice given in the last `REMEMBER_FOR`, if any."""
    stored = state.data.get(KEY)
    if not isinstance(stored, dict):
        return None
    try:
        until = datetime.fromisoformat(str(stored.get("until")))
    except ValueError:
        return None
    if until.tzinfo is None or ctx.now >= until:
        return None
    hazard = stored.get("hazard")
    return str(hazard) if hazard else None


def answers_the_advice(text: str) -> bool:
    """Does `text` only say the advice was followed, or ask what happens now?"""
    words = re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()
    if not words or len(words) > MAX_WORDS:
        return False
    plain = " ".join(words)
    return _ALONE.fullmatch(plain) is not None or _FOLLOWED.search(plain) is not None


def follow_up(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    """What to do next after recent emergency advice, or None when this is not about it."""
    hazard = recent(state, ctx)
    if hazard is None or message.option_key is not None:
        return None
    if not answers_the_advice(message.text):
        return None
    return StepResult(state, (common.after_emergency(hazard, ctx.landlord),))
