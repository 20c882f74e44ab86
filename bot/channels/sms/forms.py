"""What Twilio's webhook forms share: reading the form strictly, and reading its fields.

Twilio signs a webhook by concatenating the URL and every parameter's name and value,
sorted by name, with nothing in between (`twilio.request_validator`), and it folds
repeated names into one sorted set. So one signature fits many different forms: the
boundary between a name and a value can move (`MessageSid=SM…&NumMedia=0` and
`MessageSid=SM…NumMedia0` sign the same string), and a name may be repeated. Because of
that, the form is read here as strictly as Twilio writes it, and everything we use is
validated after the signature is checked:

- only `application/x-www-form-urlencoded` (415 otherwise: a multipart upload is never
  parsed), at most `MAX_FORM_BYTES` (413) and `MAX_FIELDS` fields (400);
- a name given twice is refused (400), so the signature is checked over exactly the
  values we read;
- `MessageSid` must have Twilio's exact shape (two capital letters and 32 lowercase hex
  digits), and `SmsSid`/`SmsMessageSid`, when present, must equal it, so a moved
  boundary cannot make a new MessageSid out of a signed request;
- `From` must be printable text of a sensible length.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.datastructures import FormData

from bot.common.bodies import BodyRefused, read_bounded

#: A Twilio message SID: two capital letters (SM, MM) and 32 lowercase hex digits.
_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}", re.ASCII)
#: Twilio's inbound form is about 20 fields (30 more with ten media attachments) and
#: 1,600 characters of text, percent-encoded: 64 KiB is several times the largest.
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 200
#: The longest From we read: a phone number, short code or alphanumeric sender id.
MAX_ADDRESS = 64
FORM_TYPE = "application/x-www-form-urlencoded"
#: Legacy names Twilio sends with the same value as MessageSid.
_SID_ALIASES = ("SmsSid", "SmsMessageSid")


class BadRequest(ValueError):
    """A form we cannot use; answered with 400 (or `status_code`) and nothing stored."""

    def __init__(self, reason: str, status_code: int = 400) -> None:
        super().__init__(reason)
        self.status_code = status_code


async def read_form(request: Request) -> FormData:
    """The urlencoded form, each name once; BadRequest (415, 413 or 400) otherwise."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise BadRequest(f"only {FORM_TYPE} is accepted", 415)
    try:
        body = await read_bounded(request, MAX_FORM_BYTES)
    except BodyRefused as exc:
        raise BadRequest(exc.reason, exc.status_code) from exc
    try:
        # As starlette reads a form: bytes as latin-1, escapes as UTF-8 (U+FFFD if invalid).
        pairs = parse_qsl(
            body.decode("latin-1"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:  # more than MAX_FIELDS
        raise BadRequest("too many fields") from exc
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise BadRequest("a field is repeated")
    return FormData(fields)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} is missing")
    return value.strip()


def message_sid(form: FormData) -> str:
    """The MessageSid, exactly as Twilio makes them, and agreeing with its legacy aliases."""
    sid = form.get("MessageSid")
    if not isinstance(sid, str) or not sid:
        raise BadRequest("MessageSid is missing")
    if not _SID.fullmatch(sid):
        raise BadRequest("MessageSid is malformed")
    for alias in _SID_ALIASES:
        value = form.get(alias)
        if value is not None and value != sid:
            raise BadRequest(f"{alias} does not match MessageSid")
    return sid


def address(form: FormData, name: str) -> str:
    """A sender or recipient as Twilio gives it: printable and short."""
    value = _field(form, name)
    if len(value) > MAX_ADDRESS or not value.isprintable():
        raise BadRequest(f"{name} is malformed")
    return value
