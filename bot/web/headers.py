"""Security headers on every answer: an ASGI middleware around the whole app.

- `Content-Security-Policy`: scripts, styles, images and requests from our own origin only
  (no inline script or style anywhere: the pages link /static files), no plugins, no
  framing, forms post only to us.
- `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`.
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (a visit link's token
  must not travel to another site in a Referer), `Cross-Origin-Opener-Policy`.
- `Cache-Control: no-store` on everything but /static: staff pages, transcripts and visit
  pages must not stay in a shared computer's cache or a proxy. A visit page's own answer
  is overridden; others keep a Cache-Control they set.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)

#: Paths whose answers may be cached (stylesheets and scripts, nothing personal).
CACHEABLE_PREFIXES = ("/static/",)
#: Paths whose answers are never cached, whatever the route said.
NEVER_CACHED_PREFIXES = ("/v/", "/staff", "/simulator")


def _no_store(path: str, *, set_by_route: bool) -> bool:
    if path.startswith(NEVER_CACHED_PREFIXES):
        return True
    return not path.startswith(CACHEABLE_PREFIXES) and not set_by_route


class SecurityHeaders:
    """Adds `HEADERS` (and `Cache-Control: no-store`) to every HTTP answer of `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers[name] = value
                if _no_store(path, set_by_route="cache-control" in headers):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
