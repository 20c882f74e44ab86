"""Log lines are one JSON object each, with ids, and the service never logs message bodies."""

from __future__ import annotations

import json
import logging

import pytest

from bot.common.logs import JsonFormatter
from simphone import Phone


def test_a_log_line_is_json_with_its_ids() -> None:
    record = logging.LogRecord(
        "bot.inbound.pipeline", logging.INFO, __file__, 1, "message answered", (), None
    )
    record.conversation_id = 12
    record.appointment_id = 34
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "message answered"
    assert line["level"] == "info"
    assert (line["conversation_id"], line["appointment_id"]) == (12, 34)
    assert line["ts"].endswith("+00:00")


def test_no_message_body_or_access_need_reaches_the_logs(
    phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "I use a wheelchair and my daughter Zara has the key"
    with caplog.at_level(logging.INFO):
        phone.say(secret)
        phone.say("book a visit")
        phone.say("2")
        phone.say(secret)
        phone.say("1")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "wheelchair" not in logged
    assert "Zara" not in logged
