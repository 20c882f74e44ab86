"""One line of JSON per event, with the ids that tie it to a conversation or a visit.

Message bodies and access needs are special-category data: they never go into logs at
info level. Code logs ids and kinds; `extra={"conversation_id": ...}` adds context.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

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
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log would print every webhook URL; our own lines carry the ids.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
