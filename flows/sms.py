"""SMS encoding facts: which text fits GSM-7 and how many segments a message costs.

A single non-GSM character switches the whole message to UCS-2 (70 characters a
segment instead of 160), so templates stay in GSM-7; names like Siân are allowed to
switch it because spelling someone's name right matters more than a segment.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsCost(encoding, units, segments)
