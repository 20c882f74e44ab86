"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 that the real PTB `Bot` talks to.

It implements the methods Doorstep calls (getMe, sendMessage, sendPhoto,
answerCallbackQuery, editMessageReplyMarkup, setWebhook, deleteWebhook, getUpdates),
answers in the Bot API's JSON shape, records every call, and can be scripted to fail the
way Telegram does: 403 "bot was blocked by the user" for a chat, or 429 with
`parameters.retry_after`.

Point a Bot at it with `base_url=f"{fake.url}/bot"` (or DOORSTEP_TELEGRAM_API_BASE=fake.url).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_ID = 7000000000
BOT_USERNAME = "doorstep_test_bot"
_SENDS = frozenset({"sendMessage", "sendPhoto"})


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    #: Uploaded files by field name (sendPhoto's photo).
    files: dict[str, bytes] = field(default_factory=dict)
    #: What the fake answered with when the call succeeded (None for errors).
    result: Any = None

    @property
    def message_id(self) -> int:
        return int(self.result["message_id"])


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    parameters: dict[str, Any] | None
    chat_id: str | None


class FakeTelegram:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.blocked_chats: set[str] = set()
        self._failures: deque[_Failure] = deque()
        self._updates: list[dict[str, Any]] = []
        self._message_ids = itertools.count(1001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- scripting ---------------------------------------------------------------------

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: every send to this chat gets Telegram's 403."""
        self.blocked_chats.add(str(chat_id))

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._failures.append(
            _Failure(
                method, status, description, parameters, None if chat_id is None else str(chat_id)
            )
        )

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for getUpdates (long polling)."""
        with self._lock:
            self._updates.append(update)

    # -- reading what happened ---------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent_to(self, chat_id: int | str) -> list[Call]:
        """Successful sendMessage/sendPhoto calls to one chat, in order."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method in _SENDS
                and c.params.get("chat_id") == str(chat_id)
                and c.result is not None
            ]

    # -- the server --------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) != 2 or not parts[0].startswith("bot"):
                    self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params, files = _decode(self.headers.get("Content-Type", ""), body)
                status, payload = fake._call(parts[1], params, files)
                self._answer(status, payload)

            do_GET = do_POST

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _call(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[int, dict[str, Any]]:
        call = Call(method, params, files)
        with self._lock:
            self.calls.append(call)
            failure = self._failure_for(method, params)
        if failure is not None:
            error: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.parameters:
                error["parameters"] = failure.parameters
            return failure.status, error
        if method in _SENDS and params.get("chat_id") in self.blocked_chats:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        result = self._result(method, params)
        if result is None:
            return 404, {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        call.result = result
        return 200, {"ok": True, "result": result}

    def _failure_for(self, method: str, params: dict[str, Any]) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, params.get("chat_id")):
                self._failures.remove(failure)
                return failure
        return None

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Doorstep",
                "username": BOT_USERNAME,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook"):
            return True
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method in _SENDS or method == "editMessageReplyMarkup":
            chat_id = int(params.get("chat_id", 0))
            message: dict[str, Any] = {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Doorstep"},
            }
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            if method == "sendPhoto":
                message["photo"] = [
                    {
                        "file_id": "AgAD-photo",
                        "file_unique_id": "photo1",
                        "width": 320,
                        "height": 320,
                    }
                ]
                if params.get("caption"):
                    message["caption"] = params["caption"]
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            return message
        return None

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.5)
        while True:
            with self._lock:
                ready = [u for u in self._updates if u["update_id"] >= offset]
            if ready or time.monotonic() >= deadline:
                return ready
            time.sleep(0.02)


def _decode(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """PTB sends form fields (JSON-encoded when not plain strings), multipart with files."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            if part.get_filename():
                files[str(name)] = data
            else:
                params[str(name)] = data.decode()
    elif content_type.startswith("application/json"):
        params = {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in json.loads(body or b"{}").items()
        }
    else:
        params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params, files
