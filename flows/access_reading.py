"""Reading what a resident says about access, by rules that generalise.

The classifier knows that "I use a wheelchair" is about access; it cannot tell a need
from the things residents say around needs, which each call for something else:

- nothing to add: "no nothing thanks", "nah all good", "none", "not that i can think of";
- an arrangement for getting in: "my son will let u in, im at work all week" (who will be
  at home, who holds a key) is an access need in the resident's own words;
- a language preference: "can u text me in polish pls" is about OUR messages, so it sets
  the resident's language and is never a note for the operative ("the engineer needs to
  speak polish", "i need an interpreter" stay needs);
- a change of consent: "actually dont share it", "u can share it now";
- a question about what is shared: "what do u tell the engineer about me".

Each reader works on the interpreter's normalised form of the text (nlu.builtin.normalise:
"u" -> "you", "dont" -> "do not", "pls" -> "please"), so SMS spellings, contractions and
typos the normaliser knows land on the same words. The vocabularies are word families,
not test sentences; tests/flows/test_access_capture.py holds unseen variants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.builtin.normalise import normalise
from nlu.types import Entity

# --- nothing to add ---------------------------------------------------------------


def _family(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Words that say "no" or "nothing".
_NOTHING = _family("no nothing none nah nope naw nay na nowt nout nil zero 0 skip negative")
#: Words that say "all is fine".
_FINE = _family("fine good ok okay alright grand sorted cool normal usual")
#: Words that may stand around those without adding anything the operative should know.
_FILLER = _family(
    """
    thanks thank thx ta cheers cheer you your youre i am we are is it its that this thats
    so really just at the a for now me my there anything else special in particular need all
    needed needs required honestly think of can could do know any to add tell say here
    from side everything as far aware be will should apart much mate love luv hun hon pal
    bro sir madam x xx xxx lol haha oh er erm um yes yeah actually mean thing things
    whatever sure please then case guess suppose probably right
    """
)
#: The most words an answer with nothing to add runs to.
_MOST_NOTHING_WORDS = 12


def _tokens(text: str) -> list[str]:
    return [t for t in normalise(text).split() if t not in {"?", "!", "/"}]


def says_nothing_to_add(text: str) -> bool:
    """'no nothing thanks', 'nah all good', 'none', '0': no need to record.

    Every word must be a "no", an "all fine" or a filler word, and at least one a "no" or an
    "all fine"; "not" just before a fine word ("not good") is not fine. So "no stairs",
    "no dogs please" and "im not good on my feet" are needs, said in the negative.
    """
    words = _tokens(text)
    if not words or len(words) > _MOST_NOTHING_WORDS:
        return False
    saying = False
    for i, word in enumerate(words):
        if word in _FINE and i > 0 and words[i - 1] == "not":
            return False
        if word in _NOTHING or word in _FINE or word == "not":
            saying = True
        elif word not in _FILLER:
            return False
    return saying


# --- an arrangement for getting in -------------------------------------------------

_SOMEONE = (
    r"son|daughter|husband|wife|partner|hubby|missus|mum|mom|mam|mother|dad|father|"
    r"brother|sister|bro|sis|nan|nana|nanna|gran|granny|grandma|grandad|grandpa|grandson|"
    r"granddaughter|auntie|aunty|aunt|uncle|cousin|niece|nephew|neighbour|neighbor|"
    r"neighbours|friend|mate|lodger|flatmate|housemate|boyfriend|girlfriend|fiance|fiancee|"
    r"carer|carers|support worker|family|relative|kid|kids|eldest|youngest|landlady|"
    r"caretaker|concierge|someone|somebody|anyone"
)
_PERSON = re.compile(rf"\b(?:{_SOMEONE})s?\b")
#: Letting someone in, or being there to: "will let you in", "be home", "has a key".
_LETS_IN = re.compile(
    r"\blet(?:s|ting)? (?:you|them|him|her|the \w+|your \w+|\w+) in\b"
    r"|\b(?:be|is|are|will be|stay|staying) (?:in|home|at home|there|around|about|in the house)\b"
    r"|\b(?:has|have|got|hold|holds|with|keeps?) (?:a |the |my |our |spare )*keys?\b"
    r"|\banswer(?:s|ing)? the door\b|\bopen(?:s|ing)? the door\b"
)
#: "hubby's home all day", "my sons in on tuesday": someone is at home.
_HOME = re.compile(
    rf"\b(?:{_SOMEONE})s? (?:is |will be |will |is going to be )?(?:home|in|around)\b"
)
#: The resident themselves will not be there: "im at work all week", "i wont be in".
_AWAY = re.compile(
    r"\bi am (?:at work|working|away|out|on holiday|in hospital)\b"
    r"|\bi (?:will not|can not|do not) (?:be )?(?:in|home|there|around)\b"
    # later, not now ("no one is in" at the door is for the door check and no-shows)
    r"|\b(?:no one|nobody|noone) (?:will be|is going to be|can be|is) (?:in|home|there) "
    r"(?:on|till|until|during|before|after|in the|weekdays|all|most)\b"
)
#: Past events at the door are not arrangements ("my son let him in earlier").
_PAST = re.compile(r"\b(?:let him in|let her in|let them in) (?:earlier|yesterday|already)\b")


def is_access_arrangement(text: str) -> bool:
    """Who will be at home or hold a key for the visit, or that the resident will be away."""
    norm = normalise(text)
    if _PAST.search(norm):
        return False
    return (
        bool(_PERSON.search(norm) and _LETS_IN.search(norm))
        or bool(_HOME.search(norm))
        or bool(_AWAY.search(norm))
    )


#: Asking for a visit, or a change to one: "im at work till 5, can the plumber come after 6"
#: is a booking with a time, however much it says about who is in.
_ABOUT_BOOKING = re.compile(
    r"\b(?:come|coming|came|book|booked|booking|rebook|change|move|cancel|reschedule|"
    r"appointment|appointments|visit|another day|different day|instead|arrange)\b"
)


def mentions_booking(text: str) -> bool:
    return bool(_ABOUT_BOOKING.search(normalise(text)))


def arrangement_category(text: str) -> str:
    """The category an arrangement is stored under: a carer's own, else other."""
    norm = normalise(text)
    if re.search(r"\b(?:carer|carers|care worker|support worker)\b", norm):
        return "carer"
    if re.search(r"\bkey ?safe|\bkey box|\block ?box", norm):
        return "key_safe"
    return "other"


# --- the needs on record still right ------------------------------------------------

_UNCHANGED = re.compile(
    r"\b(?:nothing|nothings|not|none|nowt)(?: \w+){0,2} (?:changed|different|new)\b"
    r"|\bno (?:change|changes)\b"
    r"|\b(?:same|the same) as (?:before|last time|ever|always)\b|\bstill the same\b"
    r"|\b(?:still|all) (?:right|correct|true|accurate|valid|good|fine|applies|stands)\b"
    r"|\bthat is (?:still )?(?:right|correct|it)\b|^(?:same|as before|unchanged)\b"
)
#: Adding to what is on record, not replacing it: "i have a cat now too".
_ADDING = re.compile(r"\b(?:also|too|as well|another|extra|plus|and now|this time|aswell)\b")


def still_right(text: str) -> bool:
    """'no nothings changed', 'same as before', 'still the same': the needs on record stand
    (a bare "no" would otherwise read as "change it")."""
    return bool(_UNCHANGED.search(normalise(text)))


def adds_to_record(text: str) -> bool:
    """'i have a cat now too', 'my son will let u in this time': a need beside those on
    record, not in place of them."""
    return bool(_ADDING.search(normalise(text))) or is_access_arrangement(text)


# --- a language preference ---------------------------------------------------------

#: Languages by name (as residents write them, lower case) -> ISO 639-1 code.
LANGUAGE_CODES: dict[str, str] = {
    "english": "en", "welsh": "cy", "cymraeg": "cy", "polish": "pl", "polski": "pl",
    "romanian": "ro", "punjabi": "pa", "panjabi": "pa", "urdu": "ur", "portuguese": "pt",
    "arabic": "ar", "bengali": "bn", "bulgarian": "bg", "czech": "cs", "farsi": "fa",
    "persian": "fa", "french": "fr", "german": "de", "greek": "el", "gujarati": "gu",
    "hindi": "hi", "hungarian": "hu", "italian": "it", "kurdish": "ku", "latvian": "lv",
    "lithuanian": "lt", "pashto": "ps", "russian": "ru", "slovak": "sk", "somali": "so",
    "spanish": "es", "tamil": "ta", "turkish": "tr", "ukrainian": "uk",
    "vietnamese": "vi", "albanian": "sq", "amharic": "am", "tigrinya": "ti",
    "yoruba": "yo", "igbo": "ig", "swahili": "sw", "mandarin": "zh", "cantonese": "zh",
    "chinese": "zh", "dari": "fa", "twi": "tw", "sylheti": "bn",
}  # fmt: skip
#: The languages our messages will come in (DESIGN.md, "Languages and channels").
PLANNED_LANGUAGES = frozenset({"en", "cy", "pl", "ro", "pa", "ur", "pt"})
_LANGUAGE = re.compile(r"\b(" + "|".join(sorted(LANGUAGE_CODES, key=len, reverse=True)) + r")\b")
#: Words about our messages to the resident.
_MESSAGING = re.compile(
    r"\b(?:text|texts|texted|texting|message|messages|messaged|messaging|write|writing|"
    r"written|reply|replies|respond|sms|contact|contacted|communicate|send|sent|read)\b"
)
#: Words that make a language about the visit, not our messages: a need for the operative.
_FOR_THE_VISIT = re.compile(
    r"\b(?:interpreter|interpretor|translator|translate|translation|engineer|operative|"
    r"plumber|electrician|worker|workman|workmen|contractor|builder|fitter|tradesman|"
    r"someone who|somebody who|person who|bring|speaks?|speaking|talk|talking|visit)\b"
)


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """The resident asked for our messages in a language."""

    code: str
    name: str

    @property
    def planned(self) -> bool:
        """Messages in this language are part of the languages work."""
        return self.code in PLANNED_LANGUAGES


def language_asked(text: str, entities: Iterable[Entity] = ()) -> LanguageChoice | None:
    """'can u text me in polish pls', 'polish please', 'messages in welsh': our messages in a
    language. None when no language is named, or it is for the visit ("the engineer needs
    to speak polish", "i need a polish interpreter": those are needs)."""
    norm = normalise(text)
    words = _tokens(text)
    # "in polish" says which; else the last named ("i dont read english, polish pls")
    named = [
        (norm[: m.start()].endswith("in "), m.start(), m.group(1)) for m in _LANGUAGE.finditer(norm)
    ]
    names = [name for *_, name in sorted(named)]
    for entity in entities:
        if entity.entity == "language" and str(entity.value).lower() in LANGUAGE_CODES:
            names.insert(0, str(entity.value).lower())
    if not names or _FOR_THE_VISIT.search(norm):
        return None
    name = names[-1]
    asked = bool(_MESSAGING.search(norm)) or (
        # "polish please", "in welsh pls", "welsh from now on"
        len(words) <= 6
        and all(w in _FILLER or w in {"in", "from", "now", "on", name, "language"} for w in words)
    )
    if not asked:
        return None
    return LanguageChoice(code=LANGUAGE_CODES[name], name=name.capitalize())


# --- a change of consent -----------------------------------------------------------

#: Sharing a need, in words that mean nothing else ("tell" alone could be "tell me the time").
_SHARE = (
    r"(?:"
    # sharing what is on record: "share it", "share my needs", "share it with them"
    r"(?:share|sharing|shared)(?: (?:it|that|this|them|those|everything|it all|my \w+|any of it))?"
    r"(?: with \w+(?: \w+)?)?(?=$| now| too| again| then| please| thanks| after all| either)"
    r"|pass (?:it|that|them|this|those|my \w+) on"
    # telling the operative about it, but not telling them something new ("tell the
    # engineer the gate code is 1234" is a need): "tell them", "tell the engineer about me"
    r"|tell (?:them|him|her|anyone|anybody|the \w+)"
    r"(?: about (?:me|it|that|this|them|my \w+))?(?=$| now| too| again| then| please| thanks)"
    r")"
)
#: Saying not to, now or from now on ("did not share" is a complaint, not a change).
_NOT = (
    r"(?:do not|not to|no longer|never|stop|rather you did not|rather not|would rather not|"
    r"will not|want to not)"
)
_WITHDRAW = re.compile(
    rf"\b{_NOT} (?:\w+ ){{0,3}}{_SHARE}"
    r"|\bkeep (?:it|them|that|this|those|my \w+|everything|all)(?: \w+)? (?:private|secret|"
    r"to yourself|to yourselves|confidential)\b"
    r"|\b(?:private|confidential) (?:please|thanks|thank you)\b|^(?:private|keep it private)$"
)
_GIVE = re.compile(
    rf"\b(?:can|could|may|should|okay to|ok to|happy (?:for you )?to|go ahead and|fine to|"
    rf"free to|do not mind(?: \w+){{0,2}}|okay with(?: \w+){{0,2}}) {_SHARE}"
    rf"|^(?:please |okay |yes )?{_SHARE}"
)


def consent_change(text: str) -> bool | None:
    """False for 'dont share it' / 'keep it private', True for 'u can share it now';
    None when the message says neither."""
    norm = normalise(text)
    if re.search(r"\bdo not mind\b", norm) and _GIVE.search(norm):
        return True
    if _WITHDRAW.search(norm):
        return False
    if _GIVE.search(norm):
        return True
    return None


# --- asking why we ask ------------------------------------------------------------

_WHY = re.compile(
    r"^(?:but |and |ok |okay )?why\b"
    r"|\bwhy (?:do|would|does|are|is|did)(?: \w+){0,3} (?:need|want|ask|asking|know)\b"
    r"|\bwhat (?:is|does) (?:it|this|that) (?:for|mean)\b|\bwhat do you mean\b"
    r"|\bwhat (?:kind of|sort of|type of) (?:thing|things|stuff)\b"
)


def asks_why_we_ask(text: str) -> bool:
    """'why do u need to know', 'what do u mean', 'what sort of things': a question back,
    not a need to record."""
    return bool(_WHY.search(normalise(text)))


# --- asking what is shared ---------------------------------------------------------

_ASKING = r"(?:what|which|do|does|did|will|would|have|has|is|are|can|how much)"
_HOLDING = (
    r"(?:tell|tells|told|telling|share|shares|shared|sharing|pass|passed|give|given|send|sent|"
    r"know|knows|have|has|got|hold|holds|keep|keeps|kept|record|recorded|store|stored|say|said|"
    r"note|noted|write|wrote|written|see|sees)"
)
_ABOUT_ME = (
    r"(?:about me|on me|of me|my needs?|my info|my information|my details|my data|my record|"
    r"my records|my notes|my disability|my condition|my health|my file|my access|on record|"
    r"on file|on the system|on your system)"
)
_WORKER = (
    r"(?:engineer|operative|plumber|electrician|worker|workman|workmen|contractor|builder|"
    r"fitter|trades ?man|trades ?person|tradesmen|repair ?man|handyman|them|they|him|her)"
)
_ASKS_SHARED = re.compile(
    rf"\b{_ASKING}\b.*\b{_HOLDING}\b.*\b{_ABOUT_ME}"
    rf"|\b{_ASKING}\b.*\b(?:tell|told|telling|share|shared|sharing|pass|passed|give|given|"
    rf"giving|send|sent|sending)"
    rf"\b.*\b{_WORKER}\b"
    rf"|\bwhat (?:info|information|details|data|notes)\b.*\b(?:you|your|engineer|operative)\b"
    rf"|\bwhat is on (?:record|file)\b"
)
_PERSONAL = (
    r"(?:about me|on me|of me|my needs?|my info|my information|my details|my data|"
    r"my disability|my condition|my health|my access)"
)
_ABOUT_A_JOB = re.compile(
    r"\b(?:repair|repairs|job|jobs|visit|visits|appointment|complaint|boiler|leak|tap|"
    r"reference|ref)\b"
)
_ABOUT_TIME = re.compile(r"\b(?:when|what time|which day|time|arrive|arriving|come|coming)\b")


def asks_what_is_shared(text: str) -> bool:
    """'what do u tell the engineer about me', 'wot info do u have on me', 'do you share my
    needs with the plumber': the resident asks what is on record and what is shared."""
    norm = normalise(text)
    if not _ASKS_SHARED.search(norm):
        return False
    # "what time will you tell the engineer to come" is about the visit, not the record;
    # "what have u got on record for my repair" is about the repair.
    personal = re.search(_PERSONAL, norm)
    if _ABOUT_TIME.search(norm) and not re.search(_ABOUT_ME, norm):
        return False
    return not (_ABOUT_A_JOB.search(norm) and not personal)
