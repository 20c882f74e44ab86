"""What Twilio's webhook forms share: the refusal of an unusable form, and field reading."""

from __future__ import annotations

import re

from starlette.datastructures import FormData

#: Twilio's SIDs: two letters and 32 hex digits; we accept any short word-like id.
_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BadRequest(ValueError):
    """A form we cannot use; answered with 400 and nothing stored."""


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} is missing")
    return value.strip()
