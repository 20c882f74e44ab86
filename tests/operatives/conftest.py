"""The resident channel's Telegram world (fake Bot API, fake Twilio, the real app), reused."""

from channels.test_telegram_webhook import fake_telegram, fake_twilio, run

__all__ = ["fake_telegram", "fake_twilio", "run"]
