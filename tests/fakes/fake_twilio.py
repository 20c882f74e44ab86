"""A local stand-in for Twilio's REST API, for the real twilio client to talk to.

A real HTTP server on 127.0.0.1 in a thread: it checks Basic auth like Twilio, creates,
lists and fetches Messages with Twilio's JSON shapes and error bodies, records every
request, and can be scripted to answer the next sends with errors (21610, 30003, a 429
with Retry-After, a 500) or to accept a message and then hang past the client's
time-out, which is exactly when a careless sender would text the resident twice.

Each accepted message is also logged with what the sender asked for (`created()`),
including its StatusCallback URL: Twilio's JSON for a Message does not carry that URL,
so the sender cannot read it back, but a test can count what Twilio received per
outbox row by the reference the URL carries.

`sign` computes X-Twilio-Signature the way Twilio does, with the twilio library's own
RequestValidator, so webhook tests send what Twilio would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "f4ke-twilio-auth-token-for-tests"
MESSAGING_SERVICE_SID = "MG" + "0" * 31 + "2"

ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    30003: "Unreachable destination handset",
}


@dataclass(frozen=True)
class Fail:
    """Answer the next send with this HTTP status and Twilio error code."""

    status: int
    code: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Hang:
    """Accept the next send, then answer only after `seconds` (past the client time-out)."""

    seconds: float


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]

    def one(self, name: str) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Created:
    """One message Twilio accepted, as the sender asked for it."""

    sid: str
    to: str
    body: str
    status_callback: str | None

    def reference(self, name: str = "outbox") -> str | None:
        """A query parameter of the StatusCallback URL (our reference), if there."""
        if not self.status_callback:
            return None
        values = parse_qs(urlsplit(self.status_callback).query).get(name)
        return values[0] if values else None


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    requests: list[Recorded] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    creations: list[Created] = field(default_factory=list)
    script: list[Fail | Hang] = field(default_factory=list)
    #: Twilio's clock; tests on a fixed clock pass theirs so date_created agrees.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- life -----------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                # The client may be killed mid-request (the SIGKILL tests).
                with contextlib.suppress(ConnectionResetError):
                    super().handle()

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- what tests look at ---------------------------------------------------------------

    def sent(self) -> list[Recorded]:
        """Every send request, accepted or not, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("Messages.json")]

    def accepted(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages)

    def created(self) -> list[Created]:
        """Every accepted message with the parameters it was created with, in order."""
        with self._lock:
            return list(self.creations)

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        with self._lock:
            for message in self.messages:
                if message["sid"] == sid:
                    message["status"] = status
                    message["error_code"] = error_code

    # -- the API --------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode() if length else ""
        recorded = Recorded(method, parts.path, parse_qs(parts.query), parse_qs(raw))
        with self._lock:
            self.requests.append(recorded)
        if not self._authorised(request.headers.get("Authorization")):
            self._json(request, 401, _error(401, 20003))
            return
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Messages"
        if method == "POST" and parts.path == prefix + ".json":
            self._create(request, recorded)
        elif method == "GET" and parts.path == prefix + ".json":
            self._list(request, recorded)
        elif method == "GET" and parts.path.startswith(prefix + "/"):
            sid = parts.path.removeprefix(prefix + "/").removesuffix(".json")
            found = [m for m in self.accepted() if m["sid"] == sid]
            if found:
                self._json(request, 200, found[0])
            else:
                self._json(request, 404, _error(404, 20404))
        else:
            self._json(request, 404, _error(404, 20404))

    def _create(self, request: BaseHTTPRequestHandler, recorded: Recorded) -> None:
        with self._lock:
            step = self.script.pop(0) if self.script else None
        if isinstance(step, Fail):
            headers = {"Retry-After": f"{step.retry_after:g}"} if step.retry_after else {}
            self._json(request, step.status, _error(step.status, step.code), headers)
            return
        to = recorded.one("To")
        body = recorded.one("Body") or ""
        if not to:
            self._json(request, 400, _error(400, 21604))
            return
        now = self.now()
        sid = "SM" + uuid.uuid4().hex
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": format_datetime(now),
            "date_sent": None,
            "date_updated": format_datetime(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": recorded.one("From"),
            "messaging_service_sid": recorded.one("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(1 if len(body) <= 160 else -(-len(body) // 153)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if recorded.one("MessagingServiceSid") else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": to,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        with self._lock:
            self.messages.append(message)
            self.creations.append(Created(sid, to, body, recorded.one("StatusCallback")))
        if isinstance(step, Hang):
            time.sleep(step.seconds)
        self._json(request, 201, message)

    def _list(self, request: BaseHTTPRequestHandler, recorded: Recorded) -> None:
        to, sender = recorded.one("To"), recorded.one("From")
        size = int(recorded.one("PageSize") or 50)
        found = [
            m
            for m in reversed(self.accepted())
            if (to is None or m["to"] == to) and (sender is None or m["from"] == sender)
        ][:size]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json?PageSize={size}&Page=0"
        self._json(
            request,
            200,
            {
                "messages": found,
                "end": max(len(found) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            },
        )

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        return base64.b64decode(header.removeprefix("Basic ")) == expected

    @staticmethod
    def _json(
        request: BaseHTTPRequestHandler,
        status: int,
        payload: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the time-out scenario)


def _error(status: int, code: int | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": status, "message": ERROR_MESSAGES.get(code or 0, "Error")}
    if code is not None:
        payload["code"] = code
        payload["more_info"] = f"https://www.twilio.com/docs/errors/{code}"
    return payload


def sign(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a form POST to `url`, as Twilio computes it."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def running(now: Callable[[], datetime] | None = None) -> Iterator[FakeTwilio]:
    """For fixtures: `yield from running()` starts a fake and stops it afterwards."""
    fake = (FakeTwilio(now=now) if now else FakeTwilio()).start()
    try:
        yield fake
    finally:
        fake.stop()
