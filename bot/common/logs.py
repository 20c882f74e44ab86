"""One line of JSON per event, with the ids that tie it to a conversation or a visit.

Message bodies and access needs are special-category data: they never go into a log line,
at any level. Code logs ids and kinds; `extra={"conversation_id": ...}` adds context.

Two guards stand behind that rule, because libraries log too (docs/security.md, "The log
reader"):

- The loggers of libraries that write URLs, SQL parameters or API payloads (httpx and
  httpcore: every Bot API URL carries the bot token; SQLAlchemy at DEBUG: every statement's
  parameters; python-telegram-bot at DEBUG: every message sent) are held at WARNING or INFO
  whatever the service's level. uvicorn's access log is off (`bot/cli/main.py`).
- `Redactor`, a filter on the one root handler, rewrites what still gets through: bot
  tokens, `/v/<token>` visit links, secrets in query strings, phone numbers, and the
  parameters SQLAlchemy prints in an error.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import IO, Any

#: Context fields copied from a record's `extra` into the JSON line.
CONTEXT_FIELDS = (
    "conversation_id",
    "appointment_id",
    "outbox_id",
    "resident_id",
    "message_id",
    "channel",
    "worker",
)

#: The least severe level each library logger may emit, whatever the service's level.
LIBRARY_FLOORS: dict[str, int] = {
    # Every request URL at INFO: Bot API URLs carry the bot token, Rasa's its ?token=.
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "hpack": logging.WARNING,
    "urllib3": logging.WARNING,
    # Request URLs and headers at INFO.
    "twilio": logging.WARNING,
    # SQL statements with their parameters (bodies, phone numbers) at INFO and DEBUG.
    "sqlalchemy": logging.WARNING,
    # Bot API parameters and answers (message texts) at DEBUG.
    "telegram": logging.INFO,
    # uvicorn's access log: request paths, which carry visit-link tokens.
    "uvicorn.access": logging.WARNING,
    "multipart": logging.INFO,
    "python_multipart": logging.INFO,
    "asyncio": logging.INFO,
    # "Running job ..." and "Job ... executed successfully" for every run: the dispatcher
    # runs every 2 seconds, so `make run` filled the terminal. Missed runs are WARNINGs
    # and our own jobs log what they did (bot/outbound/scheduler.py).
    "apscheduler": logging.WARNING,
}

_REDACTED = "[redacted]"

#: (pattern, replacement), applied in order to every message and traceback.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A Telegram bot token, alone or inside a Bot API URL (.../bot<token>/sendMessage).
    (re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{30,}"), "[telegram-token]"),
    # A visit link's signed token (/v/<token>, /v/<token>/photo).
    (re.compile(r"/v/[A-Za-z0-9_.=-]+"), "/v/" + _REDACTED),
    # Secrets and link codes in query strings.
    (
        re.compile(
            r"([?&](?:token|access_token|auth_token|key|secret|signature|sig|code|start|password)=)"
            r"[^&\s\"'<>]+",
            re.IGNORECASE,
        ),
        r"\1" + _REDACTED,
    ),
    # The parameters of a failed statement, as SQLAlchemy prints them in an error.
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: " + _REDACTED + "]"),
    # Phone numbers: international (+44 7400 123456, 0044...) and UK national (07400 123456).
    (re.compile(r"(?<![\w+.])(?:\+|00)[1-9](?:[ -]?[0-9]){7,14}(?![0-9])"), "[phone]"),
    (re.compile(r"(?<![\w+.])0[1-9][0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{3}(?![0-9])"), "[phone]"),
)


def redact(text: str) -> str:
    """`text` with every token, visit link, query-string secret and phone number replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """Rewrites a record's message, traceback and stack in place before any handler
    formats it (the record is shared, so every handler sees the redacted text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_text:
            line["error"] = record.exc_text
        elif record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(
    level: str = "INFO", *, json_lines: bool = True, stream: IO[str] | None = None
) -> logging.Handler:
    """One handler on the root logger (stderr unless `stream`), redacting; no other logger
    keeps a handler of its own; library loggers held at their floors. Returns the handler."""
    handler = logging.StreamHandler(stream)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(Redactor())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Every line goes through the one redacting handler: a library's own handler (uvicorn's
    # default config, an alembic fileConfig run earlier in the process) would bypass it.
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            logger.disabled = False
            if any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
                logger.handlers[:] = []
                logger.propagate = True
    service_level = root.getEffectiveLevel()
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, service_level))
    return handler
