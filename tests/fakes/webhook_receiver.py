"""A landlord's webhook receiver for tests: a real HTTP server on 127.0.0.1 in a thread,
which can be taken down, made slow or made to answer 500."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class Receiver:
    """A landlord's webhook receiver: a real HTTP server on 127.0.0.1 in a thread.

    `mode`: "ok" answers 204, "500" answers 500, "slow" waits 2 s before answering,
    "busy" answers 503 with Retry-After: 600, "moved" answers a 301 to elsewhere.
    `down()` closes the port; `up()` opens it again on the same port.
    """

    port: int = 0
    mode: str = "ok"
    got: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/doorstep"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if receiver.mode == "slow":
                    time.sleep(2)
                if receiver.mode in {"500", "busy", "moved"}:
                    self.send_response({"500": 500, "busy": 503, "moved": 301}[receiver.mode])
                    if receiver.mode == "busy":
                        self.send_header("Retry-After", "600")
                    if receiver.mode == "moved":
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.end_headers()
                    return
                receiver.got.append(Received(dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
