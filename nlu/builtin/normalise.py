"""Text normalisation shared by training and parsing.

Residents text in a hurry: "cant do 2moro pls", "im deaf", "thx". The classifier only
sees the normalised form, at training time and at parse time alike, so an SMS spelling
and its dictionary form land on the same features and the model needs fewer examples.
"""

from __future__ import annotations

import re
import unicodedata

#: SMS spellings and contractions residents use -> the form the training data mostly uses.
SMS_SPELLINGS: dict[str, str] = {
    "u": "you",
    "ya": "you",
    "yu": "you",
    "ur": "your",
    "yr": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plis": "please",
    "plse": "please",
    "plez": "please",
    "pleez": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "thnks": "thanks",
    "tnx": "thanks",
    "ty": "thank you",
    "tq": "thank you",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tomoz": "tomorrow",
    "tomo": "tomorrow",
    "tmoz": "tomorrow",
    "2day": "today",
    "2nite": "tonight",
    "tonite": "tonight",
    "nite": "night",
    "b4": "before",
    "gr8": "great",
    "l8": "late",
    "l8r": "later",
    "m8": "mate",
    "cud": "could",
    "cld": "could",
    "wud": "would",
    "wld": "would",
    "shud": "should",
    "wot": "what",
    "wat": "what",
    "wt": "what",
    "wen": "when",
    "wer": "where",
    "cos": "because",
    "coz": "because",
    "cuz": "because",
    "bc": "because",
    "ppl": "people",
    "msg": "message",
    "msgs": "messages",
    "txt": "text",
    "txts": "texts",
    "txting": "texting",
    "appt": "appointment",
    "appts": "appointments",
    "apt": "appointment",
    "wk": "week",
    "nxt": "next",
    "abt": "about",
    "bout": "about",
    "sum1": "someone",
    "some1": "someone",
    "no1": "no one",
    "noone": "no one",
    "any1": "anyone",
    "every1": "everyone",
    "ok": "okay",
    "k": "okay",
    "kk": "okay",
    "okey": "okay",
    "okk": "okay",
    "yh": "yeah",
    "ye": "yeah",
    "yep": "yeah",
    "yup": "yeah",
    "dunno": "do not know",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "innit": "isnt it",
    "n": "and",
    "&": "and",
    "hr": "hour",
    "hrs": "hours",
    "min": "minute",
    "mins": "minutes",
    "sec": "second",
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
    "morn": "morning",
    "arvo": "afternoon",
    "aft": "afternoon",
    "eng": "engineer",
    "engr": "engineer",
    "im": "i am",
    "ive": "i have",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "cannot": "can not",
    "wont": "will not",
    "isnt": "is not",
    "wasnt": "was not",
    "arent": "are not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "hadnt": "had not",
    "couldnt": "could not",
    "wouldnt": "would not",
    "shouldnt": "should not",
    "aint": "is not",
    "youre": "you are",
    "youve": "you have",
    "theyre": "they are",
    "theyve": "they have",
    "thats": "that is",
    "whats": "what is",
    "whos": "who is",
    "wheres": "where is",
    "hows": "how is",
    "theres": "there is",
    "lets": "let us",
}

_QUOTES = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?!/]|&")
_DIGIT = re.compile(r"\d")
_ELONGATED = re.compile(r"([a-z])\1{2,}")


def fold(text: str) -> str:
    """Lower-case, straighten quotes and drop accents; keeps the text's length and offsets.

    Entity extractors match against this form so their spans point into the original text.
    """
    folded = text.translate(_QUOTES).lower()
    if folded.isascii():
        return folded
    chars = []
    for ch in folded:
        base = unicodedata.normalize("NFKD", ch)[:1]
        chars.append(base if base and base.isascii() else ch)
    return "".join(chars)


def normalise(text: str) -> str:
    """The classifier's view of a message: folded, tokenised, SMS spellings and contractions
    expanded.

    Digits become 0 so "check 4821" and "check 7310" look alike while "9am" and "4/5"
    keep their shape.
    """
    folded = _ELONGATED.sub(r"\1\1", fold(text))
    words: list[str] = []
    for token in _TOKEN.findall(folded):
        # Apostrophes go first so "i'm", "i m" and "im" all expand to "i am".
        token = token.replace("'", "")
        words.append(SMS_SPELLINGS.get(token, token))
    return _DIGIT.sub("0", " ".join(words))
