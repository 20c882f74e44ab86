"""What the classifier reads: the normalised text plus marker words for known vocabulary.

Like Rasa's lookup-table and regex featurisers, a marker says "this message mentions an
access need / a language / a time" whatever the exact words. "I wear hearing aids" then
looks like every other access-needs message even though no example says "wear", which
lifted 5-fold cross-validated accuracy on nlu.yml by about a point.
"""

from __future__ import annotations

import re

from nlu.builtin.entities import EntityRules
from nlu.builtin.normalise import normalise
from nlu.builtin.phrases import PhraseMatcher

ACCESS_MARKER = "zzaccessneed"
LANGUAGE_MARKER = "zzlanguage"
TIME_MARKER = "zztimeword"

# Words that only appear when a time is being given; runs on the normalised text (digits are 0).
_TIME_WORDS = re.compile(
    r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|today|tomorrow|tonight|morning|afternoon"
    r"|evening|weekend|noon|midday|0+ ?(?:am|pm)|o ?clock|(?:next|this) week|0+(?:st|nd|rd|th)"
    r"|january|february|march|april|june|july|august|september|october|november|december)\b"
)


class Featuriser:
    """Turns a raw message into the classifier's document; identical at train and parse time."""

    def __init__(self, rules: EntityRules) -> None:
        self._access = PhraseMatcher(rules.access_needs)
        self._languages = PhraseMatcher(rules.languages)

    def prepare(self, text: str) -> str:
        doc = normalise(text)
        markers = []
        if self._access.find(text):
            markers.append(ACCESS_MARKER)
        if self._languages.find(text):
            markers.append(LANGUAGE_MARKER)
        if _TIME_WORDS.search(doc):
            markers.append(TIME_MARKER)
        return " ".join([doc, *markers]) if markers else doc
