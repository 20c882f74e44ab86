"""Staff passwords: salted scrypt hashes from the standard library, and a strength rule.

scrypt is memory-hard, so a stolen table costs an attacker real hardware per guess. The
parameters are stored with each hash, so they can be raised later without locking anyone
out: old hashes still verify with the parameters they were made with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import cache
from importlib import resources

SCHEME = "scrypt"
#: 2**14 x 8 x 1 needs 16 MiB and ~50 ms per check: slow for a thief, quick for a login.
COST_N = 2**14
BLOCK_R = 8
PARALLEL_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
MIN_LENGTH = 12
MAX_LENGTH = 1024
_MAXMEM = 64 * 1024 * 1024

#: Shipped with the package (no network at run time): common and breached passwords and the
#: words they are built from, one a line, lower case. See `breached_words`.
BREACHED_LIST = "breached-passwords.txt"
#: Leetspeak people use to dress up a common word: P@ssw0rd is password.
_LEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)
#: Trailing (and leading) digits, years and punctuation that do not make a word stronger.
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class WeakPasswordError(ValueError):
    """The message says what to change; it never echoes the password."""


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=_MAXMEM
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key`: self-describing, so parameters can change over time."""
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"a password may be at most {MAX_LENGTH} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, COST_N, BLOCK_R, PARALLEL_P)
    return f"{SCHEME}${COST_N}${BLOCK_R}${PARALLEL_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison; a malformed stored hash never matches (and never raises)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = _unb64(key)
        actual = _derive(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


#: Verified against when the email is unknown, so a wrong email takes as long as a wrong
#: password and response times do not reveal who has an account.
DUMMY_HASH = f"{SCHEME}${COST_N}${BLOCK_R}${PARALLEL_P}${_b64(b'0' * SALT_BYTES)}${_b64(b'0' * 32)}"


def check_strength(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse passwords that are short, repetitive, common or built from the user's names."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"use at most {MAX_LENGTH} characters")
    if password != password.strip():
        raise WeakPasswordError("do not start or end with a space")
    if len(set(password)) < 5:
        raise WeakPasswordError("use more different characters")
    lowered = password.lower()
    if is_breached(password):
        raise WeakPasswordError(
            "that password (or the word it is built on) is in lists of breached passwords"
        )
    personal = [email.split("@", 1)[0].lower(), *name.lower().split()]
    for part in personal:
        if len(part) >= 4 and part in lowered:
            raise WeakPasswordError("do not use your name or email address in the password")


@cache
def breached_words() -> frozenset[str]:
    """The shipped list, read once per process (it never changes while running)."""
    text = resources.files("bot.web.staff").joinpath("data", BREACHED_LIST).read_text("utf-8")
    words = (line.strip().lower() for line in text.splitlines())
    return frozenset(word for word in words if word and not word.startswith("#"))


def _variants(password: str) -> set[str]:
    """The password as typed (lower case), without its decoration, and un-leeted."""
    lowered = password.lower()
    bare = _DECORATION.sub("", lowered)
    out = {lowered, bare, lowered.translate(_LEET)}
    # Strip decoration first (Landlord2026! -> landlord), then undo leetspeak (P@ssw0rd).
    out.add(_DECORATION.sub("", lowered.translate(_LEET)))
    out.add(bare.translate(_LEET))
    # Spaces and separators do not hide a word: "pass word" is password.
    out |= {re.sub(r"[\s._-]+", "", variant) for variant in list(out)}
    return out


def is_breached(password: str) -> bool:
    """True when the password, case-insensitively and with trailing (or leading) digits,
    years and punctuation or leetspeak removed, is in the breached list, or is nothing but
    digits and punctuation (123456789012, 2026-12-03!!)."""
    variants = _variants(password)
    if "" in variants:
        return True
    words = breached_words()
    return any(variant in words for variant in variants)
