"""Whole-word phrase matching for lookup-style entities (access needs, languages).

A resident's "I'm deaf" must become `access_need=hearing` with the span of "deaf" in
their own text, because the flow records needs in the resident's words. Matching runs on
the folded text (same length as the original) so spans point straight back into it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from nlu.builtin.normalise import fold


@dataclass(frozen=True, slots=True)
class PhraseHit:
    start: int
    end: int
    value: str


class PhraseMatcher:
    """Longest-first, non-overlapping matches of known phrases, each mapped to a value."""

    def __init__(self, phrases: Mapping[str, str]) -> None:
        self._values: dict[str, str] = {}
        for phrase, value in phrases.items():
            key = _squash(fold(phrase))
            if key:
                self._values.setdefault(key, value)
        alternatives = sorted(self._values, key=lambda p: (-len(p), p))
        body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in alternatives)
        # An optional plural "s"/"es" so "dogs" finds "dog" without listing every form.
        self._pattern = (
            re.compile(rf"(?<![a-z0-9])(?:{body})(?:e?s)?(?![a-z0-9])") if alternatives else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def find(self, text: str) -> list[PhraseHit]:
        if self._pattern is None:
            return []
        hits: list[PhraseHit] = []
        for match in self._pattern.finditer(fold(text)):
            value = self._value_of(_squash(match.group(0)))
            if value is not None:
                hits.append(PhraseHit(match.start(), match.end(), value))
        return hits

    def _value_of(self, phrase: str) -> str | None:
        for candidate in (phrase, phrase[:-1], phrase[:-2]):
            if candidate in self._values:
                return self._values[candidate]
        return None


def _squash(text: str) -> str:
    return " ".join(text.split())
