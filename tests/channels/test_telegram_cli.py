"""`doorstep telegram set-webhook` and `poll` against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli.main import app
from bot.cli.telegram import poll_until_stopped
from bot.settings import load_settings
from fakes.fake_telegram import FakeTelegram
from storage.db import Database
from storage.enums import Channel
from storage.models import Message

TOKEN = "123456:TEST-token-for-the-fake"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def test_set_webhook_registers_the_url_the_secret_and_the_updates(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOORSTEP_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("DOORSTEP_TELEGRAM_WEBHOOK_SECRET", "a-long-secret-1234")
    monkeypatch.setenv("DOORSTEP_TELEGRAM_API_BASE", fake.url)
    monkeypatch.setenv("DOORSTEP_PUBLIC_BASE_URL", "https://repairs.example.org")
    result = CliRunner().invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    [call] = fake.calls_to("setWebhook")
    assert call.params["url"] == "https://repairs.example.org/webhooks/telegram"
    assert call.params["secret_token"] == "a-long-secret-1234"
    assert call.params["allowed_updates"] == ["message", "callback_query"]


def test_set_webhook_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOORSTEP_TELEGRAM_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["telegram", "set-webhook"])
    assert result.exit_code == 2
    assert "DOORSTEP_TELEGRAM_TOKEN" in result.output


def test_poll_feeds_updates_through_the_same_pipeline(
    fake: FakeTelegram, demo_db: Database
) -> None:
    settings = load_settings(
        database_url=demo_db.url,
        telegram_token=TOKEN,
        telegram_api_base=fake.url,
        scheduler_in_process=False,
    )
    fake.queue_update(
        {
            "update_id": 900000001,
            "message": {
                "message_id": 7,
                "from": {"id": 700000001, "is_bot": False, "first_name": "Gareth"},
                "chat": {"id": 700000001, "first_name": "Gareth", "type": "private"},
                "date": int(time.time()),
                "text": "hi",
            },
        }
    )

    def stored() -> Message | None:
        with demo_db.session() as session:
            return session.exec(
                select(Message).where(
                    Message.channel == Channel.TELEGRAM, Message.channel_message_id == "900000001"
                )
            ).first()

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(poll_until_stopped(settings, stop=stop))
        deadline = time.monotonic() + 20
        while (row := await asyncio.to_thread(stored)) is None or row.processed_at is None:
            assert time.monotonic() < deadline, "the polled update was never processed"
            assert not task.done(), task
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(go())
    assert fake.calls_to("deleteWebhook")
    assert stored() is not None
