"""Which messages carry a resident's access need, so staff whose role may not see
special-category data get "[withheld: access need]" in their place.

Nothing is marked when a message is stored: the answer is derived from what is stored
anyway, so it holds for every transcript already recorded too.

- A message from the resident carries a need when the interpreter read it as
  `inform_access_needs`, when it answered our question asking for needs (the booking's
  "Is there anything the operative should know...", the access flow's "Please tell us in
  your own words..."), unless it said there is nothing ("no nothing thanks"), or when
  it contains the words of a need on record.
- A message from us carries one when it quotes a need (every template that does begins
  its quote with one of `visits.QUOTE_LEADS`), when it is an operative's briefing that
  lists the needs, or when it contains the words of a need on record or of a message
  from the resident that carried one.

Matching the words of a need is deliberately generous (case and spacing ignored, the
first 40 characters enough): withholding a line by mistake costs a viewer some context,
showing one by mistake discloses special-category data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flows.access_reading import says_nothing_to_add
from flows.wording import visits

WITHHELD = "[withheld: access need]"
NEEDS_INTENT = "inform_access_needs"
#: The line an operative's briefing puts before the needs it lists (bot/operatives/briefing.py).
BRIEFING_NEEDS_LINE = "The resident asked us to tell you:"
#: The questions whose answer is a need in the resident's own words.
ASKING_FOR_NEEDS = (visits.ask_needs().text, visits.ask_new_needs().text, *visits.FORMER_ASK_NEEDS)
#: A need's words are found by this many leading characters (quotes are cut at 57 or more).
_STEM = 40
#: Shorter words than this are too common to look for ("ok", "no").
_SHORTEST = 3


@dataclass(frozen=True, slots=True)
class Said:
    """One message as a transcript holds it."""

    direction: str  # "in" (from the resident) | "out"
    text: str
    intent: str | None = None


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


class NeedWords:
    """The words of needs to look for, growing as a transcript is read."""

    def __init__(self, phrases: Iterable[str] = ()) -> None:
        self._patterns: dict[str, re.Pattern[str]] = {}
        for phrase in phrases:
            self.add(phrase)

    def add(self, phrase: str) -> None:
        norm = _norm(phrase)
        if len(norm) < _SHORTEST:
            return
        stem = norm[:_STEM]
        end = r"(?!\w)" if len(norm) <= _STEM else ""
        if stem not in self._patterns:
            self._patterns[stem] = re.compile(r"(?<!\w)" + re.escape(stem) + end)

    def found_in(self, text: str) -> bool:
        norm = _norm(text)
        return any(pattern.search(norm) for pattern in self._patterns.values())


def quotes_a_need(text: str) -> bool:
    """Is this one of our messages that quotes a need or lists them for an operative?"""
    return BRIEFING_NEEDS_LINE in text or any(lead in text for lead in visits.QUOTE_LEADS)


def asks_for_needs(text: str) -> bool:
    return any(question in text for question in ASKING_FOR_NEEDS)


def carrying_needs(lines: Sequence[Said], *, on_record: Iterable[str] = ()) -> list[bool]:
    """For each line of a transcript (oldest first): does it carry an access need?"""
    words = NeedWords(on_record)
    carried: list[bool] = []
    asked = False
    for line in lines:
        if line.direction == "in":
            answered_question = asked and not says_nothing_to_add(line.text)
            carries = line.intent == NEEDS_INTENT or answered_question or words.found_in(line.text)
            if carries:
                words.add(line.text)
        else:
            carries = quotes_a_need(line.text) or words.found_in(line.text)
            asked = asks_for_needs(line.text)
        carried.append(carries)
    return carried


def one_carries_need(text: str, *, on_record: Iterable[str] = ()) -> bool:
    """For one of our messages seen on its own (the contact log): does it carry a need?"""
    return quotes_a_need(text) or NeedWords(on_record).found_in(text)
