"""Sending outbox messages to residents on Telegram with the real python-telegram-bot `Bot`.

Options become an inline keyboard whose buttons carry `o:<outbox id>:<key>`: the webhook
can then tell which question a press answers and refuse a press on an old one. The
operative's photo goes as a photo with the text as its caption, so the resident sees the
face and the words together.

Telegram's flood limits (about 30 messages a second overall, one a second per chat) are
kept by an async limiter in front of every call, and messages to one chat go one at a time
in the order they were handed over; a 429 that still comes back is handed to the
dispatcher with its `retry_after`, which holds the message that long.

A send that timed out is the ambiguous case. Telegram has no way to look a message up
afterwards, so `reconcile` always answers None. What the time-out means therefore depends
on how far the request got:

* the connection was never made, or no pooled connection was free (connect or pool
  time-out), or the request was not fully written (write time-out): Telegram cannot have
  acted on it, so it is a transient error and the dispatcher tries again;
* the request was written in full and only the answer is missing (read time-out):
  Telegram almost always delivered it, so it is treated as sent, with status
  `unconfirmed` and no message id, rather than risk texting the resident twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.common.photos import resolve_photo
from bot.outbound.sending import OutgoingMessage, SendError, SendReceipt
from flows.messages import Option
from storage.enums import Channel

log = logging.getLogger(__name__)

#: Telegram's limits (Bot API docs and FAQ).
CALLBACK_DATA_MAX_BYTES = 64
CAPTION_MAX_CHARS = 1024
MESSAGE_MAX_CHARS = 4096
GLOBAL_PER_SECOND = 30
CHAT_INTERVAL_SECONDS = 1.0
#: "Bad Request" descriptions that mean the chat cannot be reached at all.
_UNREACHABLE_WORDS = ("chat not found", "user not found", "user is deactivated", "bot was kicked")
CALLBACK_PREFIX = "o"


@dataclass(frozen=True, slots=True)
class Choice:
    """A button press as the webhook reads it back: which message, which option."""

    outbox_id: int
    key: str | None
    #: Set instead of `key` when the key was too long for Telegram's 64 bytes.
    index: int | None = None


def callback_data(outbox_id: int, index: int, option: Option) -> str:
    """The button's payload: the key when it fits in 64 bytes, else its position."""
    data = f"{CALLBACK_PREFIX}:{outbox_id}:{option.key}"
    if len(data.encode()) <= CALLBACK_DATA_MAX_BYTES and not option.key.startswith("#"):
        return data
    return f"{CALLBACK_PREFIX}:{outbox_id}:#{index}"


def parse_callback_data(data: str | None) -> Choice | None:
    """The press's outbox id and option, or None for anything we did not make."""
    if not data or len(data.encode()) > CALLBACK_DATA_MAX_BYTES:
        return None
    prefix, _, rest = data.partition(":")
    outbox, _, key = rest.partition(":")
    if prefix != CALLBACK_PREFIX or not (outbox.isascii() and outbox.isdigit()) or not key:
        return None  # isdigit alone takes "²", which int() refuses
    if key.startswith("#"):
        index = key[1:]
        if not (index.isascii() and index.isdigit()):
            return None
        return Choice(int(outbox), None, int(index))
    return Choice(int(outbox), key)


def inline_keyboard(outbox_id: int, options: tuple[Option, ...]) -> InlineKeyboardMarkup | None:
    """One button per row: labels such as "Wed 2 Dec, morning 8am-12pm" need the width."""
    if not options:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(o.label[:64], callback_data=callback_data(outbox_id, i, o))]
            for i, o in enumerate(options)
        ]
    )


class FloodLimiter:
    """Keeps sends within Telegram's limits: N per second overall and one per chat per interval.

    Each chat reserves its next slot at once (so two messages to one chat never race), then
    the global sliding window is checked when the slot comes. The monotonic clock and sleep
    are injected so tests need not wait in real time.
    """

    def __init__(
        self,
        *,
        per_second: int = GLOBAL_PER_SECOND,
        chat_interval: float = CHAT_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._per_second = per_second
        self._chat_interval = chat_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._chat_next: dict[int, float] = {}
        self._recent: deque[float] = deque()

    async def acquire(self, chat_id: int) -> None:
        now = self._monotonic()
        slot = max(now, self._chat_next.get(chat_id, now))
        self._chat_next[chat_id] = slot + self._chat_interval
        self._forget_idle_chats(now)
        if slot > now:
            await self._sleep(slot - now)
        while True:
            now = self._monotonic()
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) < self._per_second:
                self._recent.append(now)
                return
            await self._sleep(self._recent[0] + 1.0 - now)

    def _forget_idle_chats(self, now: float) -> None:
        if len(self._chat_next) > 10_000:
            for chat, at in list(self._chat_next.items()):
                if at < now:
                    del self._chat_next[chat]


class TelegramSender:
    """The `Sender` for Telegram: one logical message per call, never retried here."""

    channel: Channel = Channel.TELEGRAM

    def __init__(
        self,
        bot: Bot,
        *,
        limiter: FloodLimiter | None = None,
        photos_dir: Path | None = None,
    ) -> None:
        self.bot = bot
        self.limiter = limiter or FloodLimiter()
        #: The configured photos folder (settings.photos_dir); the demo folder comes after it.
        self._photos_dir = photos_dir
        self._ready = asyncio.Lock()
        self._started = False
        self._chat_locks: dict[int, asyncio.Lock] = {}

    async def start(self) -> None:
        """Open the HTTP pool and check the token (getMe); safe to call more than once."""
        async with self._ready:
            if not self._started:
                await self.bot.initialize()
                self._started = True

    async def aclose(self) -> None:
        if self._started:
            await self.bot.shutdown()
            self._started = False

    async def send(self, message: OutgoingMessage) -> SendReceipt:
        chat_id = _chat_id(message.address)
        try:
            await self.start()
            keyboard = inline_keyboard(message.outbox_id, message.options)
            photo = resolve_photo(message.photo_path, self._photos_dir)
            if message.photo_path and photo is None:
                log.warning("photo %s not found; sending the text alone", message.photo_path)
            # One send at a time per chat, in call order: a photo upload that takes longer
            # than the flood interval must not let the next message overtake it.
            async with self._chat_lock(chat_id):
                sent = await self._send(chat_id, message.text, keyboard, photo)
        except _Unconfirmed:
            log.warning(
                "telegram send outbox=%s: no answer after sending; not resending", message.outbox_id
            )
            return SendReceipt(provider_message_id=None, status="unconfirmed")
        except TelegramError as exc:
            raise self._send_error(chat_id, exc) from exc
        return SendReceipt(provider_message_id=str(sent.message_id), status="sent")

    def _chat_lock(self, chat_id: int) -> asyncio.Lock:
        if len(self._chat_locks) > 10_000:
            for idle in [c for c, lock in self._chat_locks.items() if not lock.locked()]:
                del self._chat_locks[idle]
        return self._chat_locks.setdefault(chat_id, asyncio.Lock())

    async def reconcile(self, message: OutgoingMessage, *, since: Any) -> SendReceipt | None:
        """Telegram cannot look a sent message up, so a send left half-done is never found.

        See the module docstring for how a time-out is settled at the time instead.
        """
        return None

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None,
    ) -> None:
        """A direct message outside the outbox (answers to people we do not know yet)."""
        await self.start()
        await self.limiter.acquire(chat_id)
        await self.bot.send_message(chat_id, text[:MESSAGE_MAX_CHARS], reply_markup=reply_markup)

    async def _send(
        self,
        chat_id: int,
        text: str,
        keyboard: InlineKeyboardMarkup | None,
        photo: Path | None,
    ) -> Message:
        if photo is not None and len(text) <= CAPTION_MAX_CHARS:
            await self.limiter.acquire(chat_id)
            return await self._unconfirmed_on_read_timeout(
                self.bot.send_photo(
                    chat_id, photo.read_bytes(), caption=text, reply_markup=keyboard
                )
            )
        if photo is not None:
            await self.limiter.acquire(chat_id)
            await self.bot.send_photo(chat_id, photo.read_bytes())
        await self.limiter.acquire(chat_id)
        return await self._unconfirmed_on_read_timeout(
            self.bot.send_message(chat_id, text[:MESSAGE_MAX_CHARS], reply_markup=keyboard)
        )

    @staticmethod
    async def _unconfirmed_on_read_timeout(call: Awaitable[Message]) -> Message:
        try:
            return await call
        except TimedOut as exc:
            if isinstance(exc.__cause__, httpx.ReadTimeout):
                raise _Unconfirmed() from exc
            raise

    def _send_error(self, chat_id: int, exc: TelegramError) -> SendError:
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            return SendError(str(exc), permanent=False, code="429", retry_after=seconds)
        if isinstance(exc, Forbidden):
            # "bot was blocked by the user", "user is deactivated": no use trying again here.
            return SendError(exc.message, permanent=True, code="403", unreachable=True)
        if isinstance(exc, InvalidToken):
            return SendError("the bot token was rejected", permanent=False, code="401")
        if isinstance(exc, BadRequest):
            lowered = exc.message.lower()
            unreachable = any(word in lowered for word in _UNREACHABLE_WORDS)
            return SendError(exc.message, permanent=True, code="400", unreachable=unreachable)
        if isinstance(exc, ChatMigrated):
            return SendError("the chat moved", permanent=True, code="chat_migrated")
        if isinstance(exc, TimedOut):
            return SendError("timed out before Telegram had the message", permanent=False)
        if isinstance(exc, NetworkError):
            return SendError(exc.message, permanent=False, code="network")
        return SendError(exc.message, permanent=False)


class _Unconfirmed(TelegramError):
    """Internal: a read time-out after the request was written in full."""

    def __init__(self) -> None:
        super().__init__("sent, but Telegram's answer did not arrive")


def retry_after_seconds(exc: RetryAfter) -> float:
    """PTB 22 is moving `retry_after` from int to timedelta; accept both, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chat_id(address: str) -> int:
    try:
        return int(address)
    except ValueError:
        raise SendError(
            f"not a Telegram user id: {address!r}", permanent=True, unreachable=True
        ) from None
