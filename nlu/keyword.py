"""A keyword interpreter: a few word lists, no training.

It is the smallest thing that satisfies the Interpreter interface, for tests of the
plumbing and as `DOORSTEP_NLU=keyword` when the trained model is not wanted.
"""

from __future__ import annotations

import re
from datetime import datetime

from nlu.interpreter import DEFAULT_TIMEZONE
from nlu.types import FALLBACK_INTENT, IntentScore, ParseResult

_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opt_out", ("stop", "unsubscribe", "stop texting", "stopall", "optout")),
    ("opt_in", ("start", "unstop", "text me again")),
    ("greet", ("hello", "hi", "hiya", "hey", "morning", "afternoon", "evening")),
    ("thank", ("thanks", "thank you", "cheers", "ta")),
    ("goodbye", ("bye", "goodbye", "see you", "ta-ra")),
    ("help", ("help", "menu", "what can you do")),
    ("request_human", ("person", "human", "someone", "call me")),
    ("book_visit", ("book", "visit", "someone to come")),
    ("cancel_visit", ("cancel",)),
    ("verify_operative", ("door", "code", "badge", "legit", "genuine")),
)


class KeywordInterpreter:
    name = "keyword"

    async def parse(self, text: str, *, now: datetime, tz: str = DEFAULT_TIMEZONE) -> ParseResult:
        return self.parse_sync(text)

    def parse_sync(self, text: str) -> ParseResult:
        words = " " + " ".join(re.findall(r"[a-z0-9'-]+", text.lower())) + " "
        for intent, keys in _KEYWORDS:
            if any(f" {key} " in words for key in keys):
                score = IntentScore(intent, 1.0)
                return ParseResult(text, score, (score,))
        fallback = IntentScore(FALLBACK_INTENT, 1.0)
        return ParseResult(text, fallback, (fallback,))
