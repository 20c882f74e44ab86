"""Rule-based entity extraction for the built-in interpreter.

Doorstep's entities are closed sets or fixed shapes (a visit code, a 1-5 rating, a
UK phone number, a known access need), so precise rules beat a learnt tagger trained on
a few hundred examples, and they never tag a phone number or a time as a visit code
(which would make the door check fail for a genuine operative).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers

from nlu.builtin.defaults import ACCESS_NEED_PHRASES, LANGUAGES
from nlu.builtin.normalise import fold
from nlu.builtin.phrases import PhraseMatcher
from nlu.training_data import TrainingData
from nlu.types import ACCESS_NEED_VALUES, Entity

TIME_EXTRACTOR = "DoorstepTimeResolver"
REGEX_EXTRACTOR = "RegexEntityExtractor"
LOOKUP_EXTRACTOR = "LookupEntityExtractor"
PHONE_EXTRACTOR = "PhoneNumberExtractor"
RATING_EXTRACTOR = "RatingExtractor"

TimeFinder = Callable[..., Sequence[Any]]
"""`finder(text, now=..., tz=...)` returning matches with start, end, text, value."""

# Visit codes and badge numbers: 4-6 digits, optionally with a short letter prefix
# ("CX-4821", "cx4821"); never part of a longer number, an amount or a decimal.
_CODE = re.compile(r"(?<![\w£$€.,:/+-])(?:[A-Za-z]{1,3}-?)?\d{4,6}(?![\w%/]|[.,:]\d)")
_CODE_CONTEXT = re.compile(
    r"(?:code|badge|id|number|no|num|pin|ref|reference|card|verify|check)\W{0,3}"
    r"(?:is|was|number|no|of)?\W{0,3}$"
)
_NUMBER_RUN = re.compile(r"\+?\d[\d \-()]*\d")
_PHONE_DIGITS = 9
#: A UK number has ten digits after the trunk 0 or the +44.
_UK_NUMBER_DIGITS = 10

_RATING_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_RATING_NUM = r"(?P<n>[1-5]|one|two|three|four|five)"
# Spans follow nlu.yml's convention: the number alone ("[4](rating) out of 5",
# "[5](rating) stars"), except the compact "[4/5](rating)" which is one token.
_RATING_SLASH = re.compile(rf"(?<![\w.,/]){_RATING_NUM}\s*/\s*(?:5|five)(?![\w/]|[.,]\d)")
_RATING_OUT_OF = re.compile(
    rf"(?<![\w.,/]){_RATING_NUM}\s*(?:out\s+of|outta|oo|of)\s*(?:5|five)(?![\w/]|[.,]\d)"
)
_RATING_STARS = re.compile(rf"(?<![\w.,/]){_RATING_NUM}\s*(?:stars?\b|\*+)")
_RATING_ALONE = re.compile(rf"^\W*{_RATING_NUM}\W*$")
_RATING_LOOSE = re.compile(
    r"(?<![\w.,:/£$€+-])(?P<n>[1-5])(?![\w%/:]|[.,]\d|\s*(?:am|pm|min|minutes?|mins|hours?|hrs?"
    r"|days?|weeks?|months?|years?|times?|o'?clock|people|men|of\s+them|and\s+a\s+half))"
)
_RATING_FIRST_WORD = re.compile(r"^\W*(?P<n>one|two|three|four|five)\b(?!\s+(?:of|more|day|week))")
_RATING_CONTEXT = re.compile(r"\b(?:rat(?:e|ed|ing)|score|marks?|give\s+(?:it|them|him|her))\b")
_RATING_INTENTS = frozenset({"give_feedback"})


@dataclass(frozen=True, slots=True)
class EntityRules:
    """Everything the extractors learnt from the training file; pickled with the model."""

    code_patterns: tuple[str, ...]
    access_needs: dict[str, str]
    languages: dict[str, str]
    synonyms: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_training_data(cls, data: TrainingData) -> EntityRules:
        canonical = set(ACCESS_NEED_VALUES)
        access: dict[str, str] = dict(ACCESS_NEED_PHRASES)
        for value in canonical - {"other", "language"}:
            access.setdefault(value.replace("_", " "), value)
        for surface, value in data.synonyms.items():
            if value in canonical:
                access[surface] = value
        for element in data.lookup("access_need"):
            value = data.synonyms.get(element.lower(), element)
            if value in canonical:
                access[element] = value
            else:
                # Listed as a need but never mapped to a canonical value.
                access.setdefault(element.lower(), "other")
        languages = {name: name for name in LANGUAGES}
        for element in data.lookup("language"):
            languages[element] = data.synonyms.get(element.lower(), element)
        for example in data.examples:
            for ent in example.entities:
                if ent.entity == "access_need" and ent.value in canonical:
                    access[ent.text] = ent.value
                elif ent.entity == "language":
                    languages[ent.text] = ent.value
        return cls(
            code_patterns=data.regexes_for("code"),
            access_needs=access,
            languages=languages,
            synonyms=dict(data.synonyms),
        )


class EntityExtractor:
    """Applies `EntityRules` to one message; compiled once per loaded model."""

    def __init__(self, rules: EntityRules, time_finder: TimeFinder | None) -> None:
        self._codes = [re.compile(p, re.IGNORECASE) for p in rules.code_patterns]
        self._codes.append(_CODE)
        self._access = PhraseMatcher(rules.access_needs)
        self._languages = PhraseMatcher(rules.languages)
        self._time_finder = time_finder

    def extract(self, text: str, *, now: datetime, tz: str) -> list[Entity]:
        """All entities except `rating`, which needs the intent (see `ratings`)."""
        folded = fold(text)
        phones = self._phones(text)
        times = self._times(text, now=now, tz=tz)
        codes = self._codes_in(text, folded, phones, times)
        times = [t for t in times if not any(_overlaps(t, c) for c in codes)]
        found = phones + times + codes
        for hit in self._access.find(text):
            found.append(
                _entity("access_need", hit.value, hit.start, hit.end, text, LOOKUP_EXTRACTOR)
            )
        for hit in self._languages.find(text):
            found.append(_entity("language", hit.value, hit.start, hit.end, text, LOOKUP_EXTRACTOR))
        return sorted(found, key=lambda e: (e.start, e.end, e.entity))

    def ratings(self, text: str, intent: str, taken: Sequence[Entity]) -> list[Entity]:
        """Ratings, only where the message is about rating (so "code 4821" yields none).

        In a feedback message a rating beats a time on the same span ("4/5" is not 4 May);
        the caller drops the times that overlap a returned rating.
        """
        folded = fold(text)
        feedback = intent in _RATING_INTENTS
        if feedback:
            taken = [e for e in taken if e.entity != "time"]
        spans: list[tuple[int, int, int, float]] = []
        for m in _RATING_SLASH.finditer(folded):
            spans.append((m.start(), m.end(), _rating_value(m.group("n")), 0.95))
        for pattern in (_RATING_OUT_OF, _RATING_STARS):
            for m in pattern.finditer(folded):
                spans.append((m.start("n"), m.end("n"), _rating_value(m.group("n")), 0.95))
        alone = _RATING_ALONE.match(folded)
        first_word = _RATING_FIRST_WORD.match(folded) if feedback else None
        for single, confidence in ((alone, 0.8), (first_word, 0.7)):
            if not spans and single is not None:
                n = single.group("n")
                spans.append((single.start("n"), single.end("n"), _rating_value(n), confidence))
        if not spans and (feedback or _RATING_CONTEXT.search(folded)):
            for m in _RATING_LOOSE.finditer(folded):
                spans.append((m.start("n"), m.end("n"), _rating_value(m.group("n")), 0.7))
        out: list[Entity] = []
        for start, end, value, confidence in spans:
            probe = _entity("rating", value, start, end, text, RATING_EXTRACTOR, confidence)
            if not any(_overlaps(probe, other) for other in (*taken, *out)):
                out.append(probe)
        return out

    def _phones(self, text: str) -> list[Entity]:
        if sum(ch.isdigit() for ch in text) < _PHONE_DIGITS:
            return []
        found: list[Entity] = []
        # POSSIBLE rather than VALID: residents (and our examples) use Ofcom's drama ranges
        # such as 07700 900xxx, which are unallocated but still clearly a phone number.
        matcher = phonenumbers.PhoneNumberMatcher(
            text, "GB", leniency=phonenumbers.Leniency.POSSIBLE
        )
        for match in matcher:
            if sum(ch.isdigit() for ch in match.raw_string) < _UK_NUMBER_DIGITS:
                continue  # "1430" is a possible short number to phonenumbers, and a time to us
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            confidence = 1.0 if phonenumbers.is_valid_number(match.number) else 0.8
            found.append(
                _entity(
                    "phone_number", e164, match.start, match.end, text, PHONE_EXTRACTOR, confidence
                )
            )
        return found

    def _times(self, text: str, *, now: datetime, tz: str) -> list[Entity]:
        if self._time_finder is None:
            return []
        return [
            Entity("time", m.value, m.start, m.end, TIME_EXTRACTOR, 1.0, text[m.start : m.end])
            for m in self._time_finder(text, now=now, tz=tz)
        ]

    def _codes_in(
        self, text: str, folded: str, phones: list[Entity], times: list[Entity]
    ) -> list[Entity]:
        # Every pattern's matches, longest first, so "CX-4821" wins over the "4821" inside it.
        candidates = sorted(
            {(m.start(), m.end()) for pattern in self._codes for m in pattern.finditer(text)},
            key=lambda span: (span[0] - span[1], span[0]),
        )
        found: list[Entity] = []
        for start, end in candidates:
            probe = _entity("code", text[start:end], start, end, text, REGEX_EXTRACTOR)
            if any(_overlaps(probe, other) for other in (*phones, *found)):
                continue
            if _inside_long_number(text, start, end) or _is_amount(text, start, end):
                continue
            said_code = bool(_CODE_CONTEXT.search(folded[max(0, start - 30) : start]))
            if not said_code and any(_overlaps(probe, t) for t in times):
                continue
            found.append(probe)
        return sorted(found, key=lambda e: e.start)


def _inside_long_number(text: str, start: int, end: int) -> bool:
    """True for digits that are part of a phone-like run ("07700 900123", "0161-496 0000")."""
    for run in _NUMBER_RUN.finditer(text):
        if run.start() <= start and end <= run.end():
            return sum(ch.isdigit() for ch in run.group(0)) >= _PHONE_DIGITS
    return False


def _is_amount(text: str, start: int, end: int) -> bool:
    """Money or a percentage ("£1500", "1500%"), whichever pattern matched the digits."""
    before = text[:start].rstrip()[-1:]
    return before in {"£", "$", "€"} or text[end : end + 1] == "%"


def _rating_value(token: str) -> int:
    return _RATING_WORDS.get(token) or int(token)


def _overlaps(a: Entity, b: Entity) -> bool:
    return a.start < b.end and b.start < a.end


def _entity(
    name: str,
    value: Any,
    start: int,
    end: int,
    text: str,
    extractor: str,
    confidence: float = 1.0,
) -> Entity:
    return Entity(name, value, start, end, extractor, confidence, text[start:end])
