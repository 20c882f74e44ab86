"""Reading a resident's choice: a button, "2", "option 2", "the second one", or the words.

Free text and numbered options work everywhere, so every question goes through here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flows.context import FlowInput
from flows.messages import Option

_ORDINALS = {
    "first": 1, "1st": 1, "one": 1, "top": 1,
    "second": 2, "2nd": 2, "two": 2, "middle": 2,
    "third": 3, "3rd": 3, "three": 3,
    "fourth": 4, "4th": 4, "four": 4,
    "fifth": 5, "5th": 5, "five": 5,
}  # fmt: skip
_YES = frozenset(
    [
        "yes",
        "yeah",
        "yea",
        "yep",
        "yup",
        "aye",
        "ok",
        "okay",
        "sure",
        "correct",
        "right",
        "fine",
        "y",
        "ya",
        "yh",
        "definitely",
        "please",
    ]
)
_NO = frozenset(["no", "nope", "nah", "na", "not", "n", "never", "wrong", "incorrect"])


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def pick(message: FlowInput, options: Sequence[Option]) -> str | None:
    """The key of the option the resident chose, or None if they did not clearly choose one."""
    keys = [o.key for o in options]
    if message.option_key in keys:
        return message.option_key
    text = message.text.strip().lower()
    words = _words(text)
    if not words:
        return None
    if text.rstrip(".!") in keys:
        return text.rstrip(".!")
    # "option 2", "number 2", "2 please", "2." , "the 2nd one"
    if len(words) <= 4:
        for word in words:
            if word in keys:
                return word
            if word in _ORDINALS and 1 <= _ORDINALS[word] <= len(options):
                return options[_ORDINALS[word] - 1].key
        if "last" in words:
            return options[-1].key
    # The label itself, or enough of it ("book a visit" for "Book a repair visit").
    for option in options:
        label_words = set(_words(option.label)) - {"a", "the", "my", "to", "of", "is", "at"}
        if label_words and label_words <= set(words):
            return option.key
    return None


def yes_no(message: FlowInput, *, yes_key: str = "1", no_key: str = "2") -> bool | None:
    """True for yes, False for no, None when unclear. "1"/"2" follow the question's numbering."""
    if message.option_key == yes_key:
        return True
    if message.option_key == no_key:
        return False
    text = message.text.strip().lower().rstrip(".!")
    if text == yes_key:
        return True
    if text == no_key:
        return False
    words = _words(text)
    intent = message.parse.intent.name
    if (words and words[0] in _NO) or ("not" in words and len(words) <= 4):
        return False
    if words and words[0] in _YES:
        return True
    if intent == "deny":
        return False
    if intent == "affirm":
        return True
    return None


SKIP_WORDS = frozenset(
    {"0", "skip", "nothing", "none", "no", "nope", "nah", "no thanks", "n/a", "na"}
)


def is_skip(message: FlowInput) -> bool:
    """'0', 'nothing', 'no thanks', 'skip': the resident has nothing to add."""
    return is_skip_text(message.text)


def is_skip_text(text: str) -> bool:
    return text.strip().lower().rstrip(".!") in SKIP_WORDS
