"""Telegram updates in: store first, acknowledge at once, process in the background.

`POST /webhooks/telegram` checks Telegram's secret header, turns the update into work and
stores what must not be lost (unique on the update, so a redelivery is a no-op) before it
answers 200. The work then runs on the PTB `Application` (built with `.updater(None)`,
living in the ASGI lifespan): the conversation through the pipeline, whose replies go out
through the outbox, or a direct answer to someone we do not know yet. If the process dies
in between, the stored message is unprocessed and `Pipeline.process_pending()` answers it
at the next start.

Button presses are stored with the text of the option's key and the id of the keyboard
(`press:<outbox id>`), so one keyboard yields one choice however often it is pressed, and
a replay after a crash reads the same as the press. A press counts only for the latest
question with buttons in that chat and only if the resident has not said anything since;
anything else is answered "That choice has expired" and changes nothing.

Only private chats are served: a bot added to a group must not answer there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session
from telegram import Bot, CallbackQuery, Update
from telegram import Message as TgMessage
from telegram.constants import ChatType
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram import link as linking
from bot.channels.telegram.sender import TelegramSender, parse_callback_data
from bot.common.bodies import BodyRefused, read_bounded
from bot.common.events import Disposition, InboundMessage
from bot.inbound.ingest import RECORD_ONLY_INTENTS, ingest, storable
from bot.inbound.pipeline import Pipeline
from bot.inbound.ratelimit import over_limit, retry_after_header
from bot.operatives.handlers import (  # operatives (issue 7)
    ROW_ID_MAX,
    OperativeAnswer,
    OperativeDesk,
)
from flows.clock import Clock
from flows.wording import common
from storage.db import Database
from storage.enums import Channel
from storage.models import Message, OutboxMessage
from storage.repositories import button_presses
from storage.repositories.outbox import enqueue
from storage.repositories.people import resident_by_address

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
CHOICE_EXPIRED = "That choice has expired"
#: The answer to a message with no words (blank, a sticker, a photo): the same polite
#: prompt as on every channel (flows/wording/common.py).
ONLY_TEXT = common.blank_message().text
TAKEN = (
    "This Telegram account is already linked to another tenancy. If that is wrong, please call us."
)
#: How many newer messages to a chat are looked at when judging a button press.
_NEWER_LOOKED_AT = 50
_REPLY_KEY = re.compile(r"^reply:(\d+):\d+$")
#: Rows stored only for the record (linking, unknown users) are marked with this intent.
LINK_INTENT = RECORD_ONLY_INTENTS[Disposition.LINKING]
REPLY_VALIDITY = timedelta(hours=24)
SHUTDOWN_GRACE_SECONDS = 10.0
START_RETRY_SECONDS = 5.0
START_RETRY_MAX_SECONDS = 300.0
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
#: The largest update read. Telegram's are a few KiB (4,096 characters of text, escaped, plus
#: a quoted message); anything bigger is refused with 413 before it is read in full.
MAX_UPDATE_BYTES = 1024 * 1024
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: Telegram's callback query ids are short strings of digits; we store them in the
#: transcript's unique channel id, so anything else is ignored.
_QUERY_ID = re.compile(r"[0-9A-Za-z_-]{1,64}", re.ASCII)


# --- Work: what an update turns into once stored ---------------------------------------


class Work:
    """What a stored update asks for; the Application runs it after the 200."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Converse(Work):
    """A linked resident's message or button press, stored and waiting for the pipeline."""

    message_id: int
    inbound: InboundMessage
    #: For a press: the query to answer and the keyboard to remove.
    callback_query_id: str | None = None
    keyboard_chat_id: int | None = None
    keyboard_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class AnswerPress(Work):
    """A stale, repeated or foreign press: answer it and do nothing else."""

    callback_query_id: str
    text: str = CHOICE_EXPIRED


@dataclass(frozen=True, slots=True)
class Say(Work):
    """A direct message to someone we cannot (yet) treat as a resident."""

    chat_id: int
    text: str
    share_contact: bool = False


@dataclass(frozen=True, slots=True)
class ForOperative(Work):
    """An operative's update, already recorded by `bot.operatives` (issue 7): answer it."""

    answer: OperativeAnswer


class TelegramInbox:
    """Turns Telegram updates into stored work (`accept`) and does the work (`handle`)."""

    def __init__(
        self, *, db: Database, pipeline: Pipeline, clock: Clock, sender: TelegramSender
    ) -> None:
        self.db = db
        self.pipeline = pipeline
        self.clock = clock
        self.sender = sender
        self._chat_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.operatives = OperativeDesk(db=db, clock=clock, ingest=ingest)  # issue 7

    async def accept(self, update: Update) -> Work | None:
        """Store what the update carries; None when there is nothing (more) to do."""
        # Operatives (issue 7): /link, linked operatives and operative buttons go there.
        if (answer := await asyncio.to_thread(self.operatives.accept, update)) is not None:
            return ForOperative(answer)
        if update.callback_query is not None:
            return await asyncio.to_thread(self._accept_press, update.callback_query)
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        if message.chat.type != ChatType.PRIVATE:
            log.info(
                "telegram update %s from a %s chat ignored", update.update_id, message.chat.type
            )
            return None
        return await asyncio.to_thread(self._accept_message, update.update_id, message)

    async def handle(self, work: Work) -> None:
        if isinstance(work, AnswerPress):
            await self._answer_query(work.callback_query_id, work.text)
        elif isinstance(work, Say):
            markup = linking.share_contact_keyboard() if work.share_contact else None
            try:
                await self.sender.send_text(work.chat_id, work.text, reply_markup=markup)
            except TelegramError as exc:
                log.warning("telegram direct answer failed: %s", exc)
        elif isinstance(work, Converse):
            await self._converse(work)
        elif isinstance(work, ForOperative):  # operatives (issue 7)
            await work.answer.deliver(self.sender)

    async def _converse(self, work: Converse) -> None:
        if work.callback_query_id is not None:
            await self._answer_query(work.callback_query_id, None)
            await self._remove_keyboard(work.keyboard_chat_id, work.keyboard_message_id)
        # One message at a time per chat, so replies keep the order the resident wrote in.
        async with self._chat_lock(work.inbound.address):
            await self.pipeline.process(work.message_id, work.inbound)

    def _chat_lock(self, address: str) -> asyncio.Lock:
        if len(self._chat_locks) > 10_000:
            for idle in [a for a, lock in self._chat_locks.items() if not lock.locked()]:
                del self._chat_locks[idle]
        return self._chat_locks[address]

    async def _answer_query(self, query_id: str, text: str | None) -> None:
        try:
            await self.sender.start()
            await self.sender.bot.answer_callback_query(query_id, text=text)
        except TelegramError as exc:  # too old (over ~15 s) or already answered
            log.info("answerCallbackQuery failed: %s", exc)

    async def _remove_keyboard(self, chat_id: int | None, message_id: int | None) -> None:
        if chat_id is None or message_id is None:
            return
        try:
            await self.sender.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        except TelegramError as exc:  # already removed, or the message is too old to edit
            log.info("editMessageReplyMarkup failed: %s", exc)

    # --- storing (in a worker thread, one transaction each) ---------------------------

    def _accept_message(self, update_id: int, message: TgMessage) -> Work | None:
        user = message.from_user
        assert user is not None
        address = str(user.id)
        now = self.clock.now()
        with self.db.session() as session:
            if message.contact is not None:
                return self._accept_contact(session, update_id, message, now)
            text = (message.text or "").strip()
            if not text:
                return Say(message.chat.id, ONLY_TEXT)
            command, _, argument = text.partition(" ")
            token = argument.strip() if command.split("@")[0] == "/start" else ""
            resident = resident_by_address(session, channel=Channel.TELEGRAM, address=address)
            if token:
                return self._accept_start(session, update_id, message, token, now)
            if resident is None:
                if self._record(session, update_id, address, text, now) is None:
                    return None
                return Say(message.chat.id, linking.how_to_link_text(session), share_contact=True)
            inbound = InboundMessage(
                channel=Channel.TELEGRAM,
                address=address,
                text=text,
                channel_message_id=str(update_id),
                received_at=now,
            )
            message_id = ingest(session, inbound)
            return None if message_id is None else Converse(message_id, storable(inbound))

    def _accept_start(
        self, session: Session, update_id: int, message: TgMessage, token: str, now: Any
    ) -> Work | None:
        user = message.from_user
        assert user is not None
        # The token is a secret: the transcript keeps the command, never the token.
        message_id = self._record(session, update_id, str(user.id), "/start", now)
        if message_id is None:
            return None
        outcome = linking.link_by_token(session, token=token, telegram_id=user.id, now=now)
        return self._after_link(session, message_id, message.chat.id, user.id, outcome, now)

    def _accept_contact(
        self, session: Session, update_id: int, message: TgMessage, now: Any
    ) -> Work | None:
        user = message.from_user
        contact = message.contact
        assert user is not None and contact is not None
        address = str(user.id)
        message_id = self._record(session, update_id, address, "(shared a contact)", now)
        if message_id is None:
            return None
        if contact.user_id != user.id:
            log.warning("telegram user %s shared a contact that is not their own", user.id)
            return Say(message.chat.id, linking.PLEASE_SHARE_OWN, share_contact=True)
        outcome = linking.link_by_contact(
            session, phone=contact.phone_number, telegram_id=user.id, now=now
        )
        return self._after_link(session, message_id, message.chat.id, user.id, outcome, now)

    def _after_link(
        self,
        session: Session,
        message_id: int,
        chat_id: int,
        telegram_id: int,
        outcome: linking.LinkOutcome,
        now: Any,
    ) -> Work | None:
        if outcome.status == linking.LinkStatus.LINKED:
            stored = session.get(Message, message_id)
            if stored is not None:
                stored.resident_id = outcome.resident_id
                session.add(stored)
            # The resident is known now: the welcome goes through the outbox like any reply.
            enqueue(
                session,
                key=f"reply:{message_id}:0",
                kind="reply",
                purpose="reply",
                text=linking.linked_text(outcome.first_name),
                not_before=now,
                now=now,
                channel=Channel.TELEGRAM,
                address=str(telegram_id),
                resident_id=outcome.resident_id,
                expires_at=now + REPLY_VALIDITY,
                payload={"options": [], "photo_path": None},
            )
            return None
        if outcome.status == linking.LinkStatus.TAKEN:
            return Say(chat_id, TAKEN)
        if outcome.status == linking.LinkStatus.BAD_TOKEN:
            return Say(chat_id, linking.LINK_EXPIRED, share_contact=True)
        return Say(chat_id, linking.not_found_text(session), share_contact=True)

    def _accept_press(self, query: CallbackQuery) -> Work | None:
        address = str(query.from_user.id)
        choice = parse_callback_data(query.data)
        if choice is None:
            return AnswerPress(query.id)
        now = self.clock.now()
        with self.db.session() as session:
            if resident_by_address(session, channel=Channel.TELEGRAM, address=address) is None:
                return AnswerPress(query.id)
            key = current_choice(
                session, outbox_id=choice.outbox_id, key=choice.key, index=choice.index,
                address=address,
            )  # fmt: skip
            if key is None:
                return AnswerPress(query.id)
            inbound = InboundMessage(
                channel=Channel.TELEGRAM,
                address=address,
                text=key,
                channel_message_id=f"press:{choice.outbox_id}",
                received_at=now,
                option_key=key,
            )
            message_id = ingest(session, inbound)
        if message_id is None:  # this keyboard was pressed before
            return AnswerPress(query.id)
        keyboard = query.message
        return Converse(
            message_id,
            inbound,
            callback_query_id=query.id,
            keyboard_chat_id=keyboard.chat.id if keyboard is not None else None,
            keyboard_message_id=keyboard.message_id if keyboard is not None else None,
        )

    def _record(
        self,
        session: Session,
        update_id: int,
        address: str,
        text: str,
        now: Any,
    ) -> int | None:
        """Store an update only for the record (linking, someone we do not know yet)."""
        inbound = InboundMessage(
            channel=Channel.TELEGRAM,
            address=address,
            text=text,
            channel_message_id=str(update_id),
            received_at=now,
        )
        return ingest(session, inbound, disposition=Disposition.LINKING)


def current_choice(
    session: Session, *, outbox_id: int, key: str | None, index: int | None, address: str
) -> str | None:
    """The option key if this press answers the chat's latest question, else None."""
    if not 0 < outbox_id <= ROW_ID_MAX:  # forged: no such row, and PostgreSQL would refuse it
        return None
    row = session.get(OutboxMessage, outbox_id)
    if row is None or row.channel != Channel.TELEGRAM or row.address != address:
        return None
    keys = _option_keys(row.payload.get("options"))
    if index is not None:
        key = keys[index] if 0 <= index < len(keys) else None
    if key is None or key not in keys:
        return None
    newer = button_presses.payloads_after(
        session, address=address, outbox_id=outbox_id, limit=_NEWER_LOOKED_AT
    )
    if any(_option_keys(payload.get("options")) for payload in newer):
        return None
    asked_for = _REPLY_KEY.match(row.idempotency_key)
    if button_presses.said_since(
        session,
        address=address,
        after_message_id=int(asked_for.group(1)) if asked_for is not None else None,
        after=row.created_at if asked_for is None else None,
    ):
        return None
    return key


def _option_keys(options: Any) -> list[str]:
    if not isinstance(options, Sequence):
        return []
    return [str(o["key"]) for o in options if isinstance(o, dict) and "key" in o]


# --- The webhook and the Application around it -----------------------------------------


class TelegramWebhook:
    """The PTB Application for the webhook, and the work it runs in the background."""

    def __init__(
        self, application: AnyApplication, inbox: TelegramInbox, *, secret: str | None
    ) -> None:
        self.application = application
        self.inbox = inbox
        self._secret = secret
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._retry: asyncio.Task[None] | None = None
        application.add_handler(TypeHandler(Work, self._run))
        application.add_error_handler(_log_error)

    def secret_matches(self, given: str | None) -> bool:
        """Without a configured secret nothing is accepted: use `doorstep telegram poll`."""
        if self._secret is None:
            return False
        return given is not None and hmac.compare_digest(given.encode(), self._secret.encode())

    async def submit(self, work: Work) -> None:
        self._in_flight += 1
        self._idle.clear()
        await self.application.update_queue.put(work)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until every accepted update has been handled (tests, graceful shutdown)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def startup(self) -> None:
        """Start the Application; if Telegram cannot be reached, keep trying in the background.

        Updates keep being stored meanwhile and are worked through once it is up, so an
        outage at Telegram never stops the service or the SMS channel from starting. A
        rejected token is a configuration error and stops start-up.
        """
        try:
            await self._start()
        except InvalidToken as exc:
            raise RuntimeError("DOORSTEP_TELEGRAM_TOKEN was rejected by Telegram") from exc
        except NetworkError as exc:
            log.error("Telegram unreachable at start-up (%s); retrying in the background", exc)
            self._retry = asyncio.create_task(self._keep_trying(), name="telegram-start")

    async def shutdown(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
        # Let accepted work finish; whatever does not is stored and answered at next start.
        with contextlib.suppress(TimeoutError):
            await self.wait_idle(SHUTDOWN_GRACE_SECONDS)
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _start(self) -> None:
        await self.application.initialize()
        await self.application.start()
        log.info("Telegram channel on as @%s (webhook)", self.application.bot.username)

    async def _keep_trying(self) -> None:
        delay = START_RETRY_SECONDS
        while True:
            await asyncio.sleep(delay)
            try:
                await self._start()
                return
            except NetworkError as exc:
                delay = min(delay * 2, START_RETRY_MAX_SECONDS)
                log.warning("Telegram still unreachable (%s); next try in %.0f s", exc, delay)

    async def _run(self, work: object, _: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            assert isinstance(work, Work)
            await self.inbox.handle(work)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram work failed for %r", type(update).__name__, exc_info=context.error)


router = APIRouter()


@router.post("/webhooks/telegram", include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    webhook: TelegramWebhook | None = getattr(request.app.state, "telegram", None)
    if webhook is None:
        return Response(status_code=404)
    if not webhook.secret_matches(request.headers.get(SECRET_HEADER)):
        return Response(status_code=403)
    try:
        body = await read_bounded(request, MAX_UPDATE_BYTES)
    except BodyRefused as exc:
        log.warning("telegram webhook body refused (%s): %s", exc.status_code, exc.reason)
        return Response(exc.reason, status_code=exc.status_code)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past any update
        return Response("not JSON", status_code=400)
    update = parse_update(data, webhook.application.bot)
    if update is None:
        return Response(status_code=200)
    if (refused := _over_limit(request, update)) is not None:
        return refused
    work = await webhook.inbox.accept(update)
    if work is not None:
        await webhook.submit(work)
    return Response(status_code=200)


def _over_limit(request: Request, update: Update) -> Response | None:
    """429 for a user over the webhook rate limit (bot/inbound/ratelimit.py); Telegram
    redelivers."""
    user = update.effective_user
    if user is None:
        return None
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    runtime = request.app.state.runtime
    verdict = over_limit(
        request.app.state,
        runtime.settings.webhook_rate_per_minute,
        channel="telegram",
        sender=str(user.id),
        text=text,
    )
    if verdict is None:
        return None
    return Response(status_code=429, headers=retry_after_header(verdict))


def parse_update(data: object, bot: Bot) -> Update | None:
    """PTB's own parsing, and what we rely on afterwards; an update we cannot use is
    logged and ignored (answered 200: Telegram would deliver it again and again after a
    4xx, and it will never become readable), never a 500."""
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        log.info("telegram webhook: not an update, ignored")
        return None
    if _outside_64_bits(data):
        log.warning("telegram update ignored: it holds a number outside 64 bits")
        return None
    update_id = data["update_id"]
    try:
        update = Update.de_json(data, bot)
    except _UNREADABLE as exc:
        log.warning(
            "telegram update %s unreadable (%s), ignored", update_id, exc.__class__.__name__
        )
        return None
    if not _usable(update):
        log.warning("telegram update %s ignored: a field of the wrong type or shape", update_id)
        return None
    return update


#: What PTB's parsing raises on a malformed update (a date past time_t is an OSError).
_UNREADABLE = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    OverflowError,
    OSError,
    RecursionError,
)


def _usable(update: Update) -> bool:
    """Whether what the inbox reads has the types Telegram documents: PTB does not check
    them, and a string where an id belongs would fail in the database instead. A callback
    query id is stored in the transcript's unique channel id, so it must look like one."""
    user = update.effective_user
    if user is not None and not _is_int(user.id):
        return False
    message = update.effective_message
    if message is not None:
        if not (_is_int(message.message_id) and _is_int(message.chat.id)):
            return False
        if not (_is_str(message.chat.type) and _is_str(message.text, optional=True)):
            return False
        contact = message.contact
        if contact is not None and not (
            _is_str(contact.phone_number) and _is_int(contact.user_id, optional=True)
        ):
            return False
    query = update.callback_query
    if query is not None:
        if not (_is_str(query.id) and _QUERY_ID.fullmatch(query.id)):
            return False
        if not _is_str(query.data, optional=True):
            return False
    return True


def _is_int(value: object, *, optional: bool = False) -> bool:
    return (optional and value is None) or type(value) is int


def _is_str(value: object, *, optional: bool = False) -> bool:
    return (optional and value is None) or isinstance(value, str)


def _outside_64_bits(data: object) -> bool:
    """Whether any integer in the update is one a signed 64-bit column cannot hold.

    Telegram's ids have at most 52 significant bits and every other integer it sends is
    smaller; one past 2^63 (a forged `from.id`, say) would fail in the database instead.
    Walked without recursion: json.loads allows more nesting than a recursive walk might.
    """
    waiting: list[object] = [data]
    while waiting:
        item = waiting.pop()
        if isinstance(item, dict):
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
        elif isinstance(item, int) and not _INT64_MIN <= item <= _INT64_MAX:
            return True
    return False
