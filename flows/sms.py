"""SMS encoding facts: which text fits GSM-7, how many segments a message costs, and
how to quote outside words without changing either.

A single non-GSM character switches the whole message to UCS-2 (70 characters a
segment instead of 160), so templates stay in GSM-7; names like Siân are allowed to
switch it because spelling someone's name right matters more than a segment. Words a
message repeats from a resident, staff or a landlord's system go through `quote`, which
keeps them in GSM-7 (an emoji or curly quote in a repair description must not triple the
cost of a reply). `fit` picks the fullest of a template's wordings that fits its budget.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flows.messages import Option

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Characters that cost two septets (an escape plus the character).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
MAX_SEGMENTS = 2


@dataclass(frozen=True, slots=True)
class SmsCost:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def non_gsm7(text: str) -> set[str]:
    return {c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENDED}


def sms_cost(text: str) -> SmsCost:
    if is_gsm7(text):
        units = septets(text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsCost(encoding, units, segments)


#: Typographic punctuation with a plain GSM-7 equivalent (what phones' autocorrect types):
#: quoting outside words and rendering an SMS (bot/channels/sms/render.py) both use it.
TYPOGRAPHIC: dict[str, str] = {
    "\u2018": "'",  # left single quote
    "\u2019": "'",  # right single quote / apostrophe
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",  # prime
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",
    "\u2212": "-",  # minus sign
    "\u2022": "-",  # bullet
    "\u2026": "...",
}

#: What a quote of outside words spells plainly: the typographic characters, a few more
#: quote marks people type, and letters that have no decomposition but a plain spelling.
_PLAIN: dict[str, str] = {
    **TYPOGRAPHIC,
    "\u00b4": "'",  # acute accent typed as an apostrophe
    "`": "'",
    "\u00ab": '"',
    "\u00bb": '"',
    # Letters that have no decomposition but a plain spelling.
    "\u0141": "L",  # Polish L with stroke
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0131": "i",  # dotless i
    "\u0152": "OE",
    "\u0153": "oe",
    "\u00de": "Th",
    "\u00fe": "th",
    "\u00d0": "D",
    "\u00f0": "d",
}


def gsm7_safe(text: str) -> str:
    """Text from outside (a resident, staff, a landlord's system) in the GSM-7 alphabet.

    Typographic quotes and dashes become plain ones, accented letters outside GSM-7 lose
    their accent ("ŵ" -> "w", "ł" -> "l"; "é" is GSM-7 and stays), every kind of space or
    line break becomes one space, and whatever has no plain spelling (emoji, other
    scripts, symbols) is left out. Quoting a resident's words never changes the encoding
    of the message they are quoted in.
    """
    kept: list[str] = []
    for c in text:
        if c in GSM7_BASIC or c in GSM7_EXTENDED:
            kept.append(" " if c in "\n\r\f" else c)
        elif c in _PLAIN:
            kept.append(_PLAIN[c])
        elif c.isspace():
            kept.append(" ")
        else:
            base = unicodedata.normalize("NFKD", c)
            plain = "".join(b for b in base if b in GSM7_BASIC or b in GSM7_EXTENDED)
            if plain and (c.isalpha() or c.isdigit()):  # "ô" -> "o", "²" -> "2"; "½" left out
                kept.append(plain)
    return " ".join("".join(kept).split())


def quote(text: str, limit: int, *, empty: str = "") -> str:
    """Someone's words as a message repeats them: GSM-7 (see `gsm7_safe`), one line, and
    at most `limit` septets, cut at a word with "..." when they are longer.

    `empty` stands in when nothing printable is left (a message of emoji only).
    """
    words = gsm7_safe(text)
    if not words:
        return empty
    if septets(words) <= limit:
        return words
    room = max(limit - 3, 1)
    cut = _prefix(words, room)
    at_word = cut.rsplit(" ", 1)[0] if " " in cut and words[len(cut)] != " " else cut
    if len(at_word) >= room // 2:  # a word boundary not too far back
        cut = at_word
    return cut.rstrip(" ,.;:-'\"(") + "..."


def septets(text: str) -> int:
    """The length of GSM-7 text in septets (an extended character such as "€" counts 2)."""
    return sum(2 if c in GSM7_EXTENDED else 1 for c in text)


def _prefix(text: str, units: int) -> str:
    """The longest start of `text` that takes at most `units` septets."""
    used = 0
    for i, c in enumerate(text):
        used += 2 if c in GSM7_EXTENDED else 1
        if used > units:
            return text[:i]
    return text


def sms_body(text: str, options: Iterable[Option] = ()) -> str:
    """What an SMS carries for a reply: its text, then one "key label" line an option
    (as bot/channels/sms/render.py renders it)."""
    lines = [text.strip(), *(f"{option.key} {option.label}" for option in options)]
    return "\n".join(line for line in lines if line)


def fit(candidates: Sequence[str], *, options: Iterable[Option] = (), segments: int = 1) -> str:
    """The first wording that fits in `segments` SMS segments with its option lines; when
    none does, the first of those that cost the fewest. Candidates go from fullest to
    tersest and all carry the same meaning: long names or links cost words, never facts."""
    listed = tuple(options)
    costs = [sms_cost(sms_body(text, listed)).segments for text in candidates]
    allowed = max(segments, min(costs))
    return next(text for text, cost in zip(candidates, costs, strict=True) if cost <= allowed)
