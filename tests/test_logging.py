"""Log lines are one JSON object each, with ids, and nothing secret or personal reaches them:
no token, secret key, visit link, phone number, message body or access need, at any level."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import random
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from channels.test_telegram_webhook import GARETH_ID, TelegramWorld, sent_to
from channels.test_telegram_webhook import SECRET as WEBHOOK_SECRET
from fastapi import FastAPI
from reliability.harness import free_port
from sqlmodel import select

from bot.app import create_app
from bot.cli.main import server_config
from bot.common.clock import FixedClock
from bot.common.logs import LIBRARY_FLOORS, JsonFormatter, configure_logging, redact
from bot.settings import Settings, load_settings
from fakes.fake_telegram import FakeTelegram
from fakes.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio, running
from fakes.sms_harness import PUBLIC, SmsWorld
from nlu.builtin import BuiltinInterpreter
from simphone import Phone
from storage.db import Database
from storage.models import AccessNeed, Appointment


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


# -- a full run, logged at DEBUG: nothing secret reaches any line (issue 13, item 1) -----

BOT_TOKEN = "7000000000:AAHk3vQ9xR2mT8pL5nW1cY4bF6gJ0dS7eZq"
SECRET_KEY = "9de87fab4564e7982a2152209efcb9743b033f9b0f384eb9c5c3ddc77aeb3a3c"
NEED = "I am deaf so please text me when you arrive, Zara holds the spare key"
SMS_NEED = "I use a wheelchair and the lift at Hawthorn Court is often broken"


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """configure_logging and uvicorn change process-wide loggers; put them back after."""
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access", *LIBRARY_FLOORS]
    loggers = [logging.getLogger(name) for name in names]
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    yield
    for logger, level, propagate, handlers in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


def _redaction_cases() -> list[tuple[str, str]]:
    return [
        (f"POST http://x/bot{BOT_TOKEN}/sendMessage", BOT_TOKEN),
        ("GET /v/WzEsMiwxNzk0MDAwMDAwLjBd.k3j2-Abc_9 HTTP/1.1", "WzEsMiwxNzk0MDAwMDAwLjBd"),
        ("texting +447400123456 now", "7400123456"),
        ("texting +44 7400 123456 now", "7400 123456"),
        ("call 07400 123456", "07400 123456"),
        ("parse http://rasa:5005/model/parse?token=s3cr3t-rasa&x=1", "s3cr3t-rasa"),
        ("[SQL: INSERT ...]\n[parameters: ('hello Zara', '+447400123456')]", "Zara"),
    ]


@pytest.mark.parametrize(("line", "secret"), _redaction_cases())
def test_the_redactor_removes_what_a_log_reader_must_not_see(line: str, secret: str) -> None:
    assert secret not in redact(line)


def test_a_library_handler_set_up_earlier_cannot_bypass_the_redactor(
    logging_restored: None,
) -> None:
    """uvicorn's default logging config gives its loggers a handler of their own that does
    not propagate; once the service configures logging, their lines go through the one
    redacting handler instead."""
    import io
    import logging.config

    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    stream = io.StringIO()
    configure_logging("INFO", json_lines=True, stream=stream)
    logging.getLogger("uvicorn.error").info("client texted +447400123456")
    logging.getLogger("uvicorn.access").warning("GET /v/WzEsMiwxNzk0MDAwMDAwLjBd.k3j2 404")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["uvicorn.error", "uvicorn.access"]
    assert "7400123456" not in stream.getvalue()
    assert "WzEsMiwxNzk0MDAwMDAwLjBd" not in stream.getvalue()


def test_the_redactor_leaves_times_ids_and_durations_alone() -> None:
    line = "2026-11-30T09:00:00.000+00:00 outbox 12345678 sent in 0.00123456789 s"
    assert redact(line) == line


def test_a_full_run_logged_at_debug_holds_no_secret(
    demo_db: Database,
    clock: FixedClock,
    interpreter: BuiltinInterpreter,
    capfd: pytest.CaptureFixture[str],
    logging_restored: None,
) -> None:
    """Telegram through the fake Bot API, SMS in and out through the fake Twilio, a visit
    page, and an access need stated, served by uvicorn as `doorstep serve` runs it, with
    logging at DEBUG: the captured output holds no token, secret, visit link, phone number,
    message body or need."""
    with FakeTelegram() as telegram, contextlib.ExitStack() as stack:
        twilio = stack.enter_context(contextlib.contextmanager(running)(clock.now))
        settings = load_settings(
            _env_file=None,
            database_url=demo_db.url,
            simulator=False,
            secret_key=SECRET_KEY,
            public_base_url=PUBLIC,
            port=free_port(),
            log_level="DEBUG",
            scheduler_in_process=False,
            telegram_token=BOT_TOKEN,
            telegram_webhook_secret=WEBHOOK_SECRET,
            telegram_api_base=telegram.url,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
            twilio_api_base=twilio.base_url,
            twilio_rate_per_second=100,
        )
        configure_logging(settings.log_level, json_lines=True)
        app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
        visit_paths = asyncio.run(_full_run(app, settings, demo_db, clock, telegram, twilio))
        bodies = [c.body for c in twilio.created()] + [
            str(c.params.get("text") or c.params.get("caption") or "") for c in telegram.calls
        ]
    captured = capfd.readouterr()
    logged = captured.out + captured.err

    secrets_ = {
        "bot token": BOT_TOKEN,
        "bot token's secret half": BOT_TOKEN.split(":")[1],
        "webhook secret": WEBHOOK_SECRET,
        "secret key": SECRET_KEY,
        "Twilio auth token": AUTH_TOKEN,
        "Margaret's number": "7400123456",
        "Gareth's number": "7400123463",
        "Telegram need": "Zara holds the spare key",
        "SMS need": "the lift at Hawthorn Court",
    }
    for path in visit_paths:
        secrets_[f"visit link {path}"] = path.removeprefix("/v/").split("/")[0]
    for body in bodies:
        if len(body) >= 20:
            secrets_[f"message body {body[:30]!r}"] = body[:40]
    leaked = {name: value for name, value in secrets_.items() if value in logged}
    assert not leaked, f"in the logs: {sorted(leaked)}"
    # And the run was logged, through the one JSON handler.
    assert '"logger": "uvicorn.error", "event": "Application startup complete."' in logged


async def _full_run(
    app: FastAPI,
    settings: Settings,
    db: Database,
    clock: FixedClock,
    telegram: FakeTelegram,
    twilio: FakeTwilio,
) -> list[str]:
    server = uvicorn.Server(server_config(app, settings))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn did not start"
            await asyncio.sleep(0.02)
        base = f"http://{settings.host}:{settings.port}"
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            tg = TelegramWorld(app, client, db, clock, telegram)
            # Gareth on Telegram books a visit and states an access need.
            first = await tg.post(tg.text("hi"))
            assert first.status_code == 200, first.text
            await tg.dispatch()
            menu = sent_to(telegram, GARETH_ID)[-1]
            book = next(b for b in menu.buttons if b["text"] == "Book a repair visit")
            await tg.post(tg.press(menu, book["callback_data"]))
            await tg.dispatch()
            await tg.post(tg.text(NEED))
            await tg.dispatch()
            await tg.post(tg.text("yes"))  # share it with the operative
            await tg.dispatch()
            offers = sent_to(telegram, GARETH_ID)[-1]
            await tg.post(tg.press(offers, offers.buttons[0]["callback_data"]))
            await tg.dispatch()
            await tg.dispatch()
            # Margaret texts in, states a need, and is answered by SMS.
            sms = SmsWorld(app, client, db, clock, twilio)
            try:
                for text in ("hello", SMS_NEED, "yes"):
                    assert (await sms.text(text)).status_code == 200
                    await tg.dispatch()
                    await sms.dispatcher.run_once()
            finally:
                await sms.sender.aclose()
            # Every visit's public page, opened as a resident opens the link.
            links = app.state.runtime.links
            with db.session() as session:
                visits = list(session.exec(select(Appointment)))
            paths = [urlsplit(link).path for v in visits if (link := links.link(v))]
            opened = [(await client.get(path)).status_code for path in paths]
            assert 200 in opened, [c.params for c in telegram.calls]
            for path in paths:
                await client.get(path + "/photo")
        assert telegram.calls_to("sendMessage") and twilio.created()
        with db.session() as session:
            assert len(list(session.exec(select(AccessNeed)))) >= 1
        return paths
    finally:
        server.should_exit = True
        await serving


def test_the_scheduler_does_not_log_every_run(logging_restored: None) -> None:
    """`make run` printed two lines every two seconds (the dispatcher's every run); a
    missed run, which needs a look, still shows."""
    stream = io.StringIO()
    configure_logging("INFO", json_lines=False, stream=stream)
    runs = logging.getLogger("apscheduler.executors.default")
    runs.info('Running job "dispatcher (trigger: interval[0:00:02])"')
    runs.info('Job "dispatcher (trigger: interval[0:00:02])" executed successfully')
    runs.warning('Run time of job "planner" was missed by 0:00:07')
    logging.getLogger("bot.outbound.scheduler").info("scheduler started worker=w1")
    printed = stream.getvalue()
    assert "executed successfully" not in printed and "Running job" not in printed
    assert "was missed by" in printed
    assert "scheduler started" in printed
