"""Words that change everything: emergencies, and the carriers' own opt-out keywords.

Other hazards (damp and mould, leaks, pests, ...) are flows/hazards.py's; an
emergency-level one (a ceiling coming down) is recognised there and answered here.

Emergencies are checked before any flow, in every state, even while a conversation is
paused for a person: a resident mid-booking who says "I can smell gas" gets safety
advice at once. Carrier keywords matter because on SMS the carrier acts on them before
we see them: a resident who texts just CANCEL has been unsubscribed, whatever they meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from flows.hazards import emergency_in
from storage.enums import HazardCategory


class Hazard(StrEnum):
    GAS = "gas"
    WATER = "water"
    ELECTRICAL = "electrical"
    FIRE = "fire"
    NO_HEAT_OR_WATER = "no_heat_or_water"
    CARBON_MONOXIDE = "carbon_monoxide"
    #: A ceiling, roof, floor, balcony or stairs collapsing or coming down.
    STRUCTURAL = "structural"


#: The hazard category each emergency is raised with (Awaab's Law; on the repair job).
CATEGORY = {
    Hazard.GAS: HazardCategory.GAS,
    Hazard.CARBON_MONOXIDE: HazardCategory.GAS,
    Hazard.WATER: HazardCategory.LEAK,
    Hazard.ELECTRICAL: HazardCategory.ELECTRICAL,
    Hazard.FIRE: HazardCategory.FIRE,
    Hazard.NO_HEAT_OR_WATER: HazardCategory.EXCESS_COLD,
    Hazard.STRUCTURAL: HazardCategory.STRUCTURAL,
}


_PATTERNS: tuple[tuple[Hazard, re.Pattern[str]], ...] = (
    (Hazard.FIRE, re.compile(r"\b(fire|on fire|flames?|burning smell|smoke coming)\b")),
    (
        Hazard.CARBON_MONOXIDE,
        re.compile(r"\b(carbon monoxide|co alarm|co detector|monoxide)\b"),
    ),
    (
        Hazard.GAS,
        re.compile(
            r"\b((smel+s?|smel+ing|smelt|stinks?|stinking|reeks?|reeking|whiff)"
            r"( (really|strongly|badly|strong|of|like|a bit|off))* gas|"
            r"gas (smell|leak|is leaking)|leak(ing)? gas)\b"
        ),
    ),
    (
        Hazard.ELECTRICAL,
        re.compile(
            r"\b(sparks?|sparking|electric(al)? shock|exposed wires?|live wires?|"
            r"socket (is )?(smoking|melting|burning)|fuse ?box (is )?(smoking|burning))\b"
        ),
    ),
    (
        Hazard.WATER,
        re.compile(
            r"\b(flood(ed|ing)?|water (is )?(pouring|gushing|coming through)|burst pipe|"
            r"pipe (has )?burst|ceiling (is )?leaking)\b"
        ),
    ),
)
_NO_HEAT_OR_WATER = re.compile(
    r"\b(no (heating|heat|hot water|water)|heating (is )?(off|not working|broken)|"
    r"boiler (is )?(broken|not working|off))\b"
)
_VULNERABLE = re.compile(
    r"\b(baby|newborn|toddler|pregnant|elderly|disabled|oxygen|dialysis|"
    r"(i'?m|i am|he'?s|she'?s) (\d{2}|ninety|eighty)|very (ill|poorly|unwell)|"
    r"poorly|unwell|chemo|vulnerable|disabled)\b"
)

#: Words carriers treat as opt-out on SMS (Twilio's defaults). Never used as prompts.
CARRIER_OPT_OUT = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
CARRIER_OPT_IN = frozenset({"start", "unstop", "yes"})
#: Words that must never be offered as prompts (carrier keywords, YES/HELP/INFO).
RESERVED_PROMPT_WORDS = CARRIER_OPT_OUT | {"start", "unstop", "yes", "help", "info"}


@dataclass(frozen=True, slots=True)
class Emergency:
    hazard: Hazard
    #: True when the resident told us someone vulnerable is affected (no heat or water).
    vulnerable: bool = False

    @property
    def category(self) -> HazardCategory:
        return CATEGORY[self.hazard]


def detect_emergency(text: str) -> Emergency | None:
    lowered = text.lower()
    for hazard, pattern in _PATTERNS:
        if pattern.search(lowered):
            return Emergency(hazard)
    if _NO_HEAT_OR_WATER.search(lowered) and _VULNERABLE.search(lowered):
        return Emergency(Hazard.NO_HEAT_OR_WATER, vulnerable=True)
    # Word families with typos ("the celing is coming down", "water dripping in the lights").
    found = emergency_in(text)
    if found is not None:
        structural = found.category == HazardCategory.STRUCTURAL
        return Emergency(Hazard.STRUCTURAL if structural else Hazard.WATER)
    return None


def carrier_keyword(text: str) -> str | None:
    """The carrier keyword if the whole message is one (as carriers match them)."""
    word = re.sub(r"[^a-z]", "", text.strip().lower())
    if word in CARRIER_OPT_OUT or word in CARRIER_OPT_IN:
        return word
    return None
