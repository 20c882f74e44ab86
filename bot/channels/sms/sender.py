"""Sending texts through Twilio's REST API with the real twilio client.

The twilio client builds every URL for api.twilio.com; its HTTP layer is pluggable, so
ours (httpx, async) sends the same requests to `DOORSTEP_TWILIO_API_BASE` when that is
set (a local fake in tests) and reads the two things the client would otherwise throw
away: a 429's Retry-After and a time-out. A time-out is the dangerous case: Twilio may
have accepted the message before the connection died, so sending it again could text
the resident twice. The sender says so (`SendError` code "timeout") and the dispatcher
leaves the row `sending`, to be settled like a row a crash left behind.

Our own reference travels with every send: the StatusCallback URL carries the outbox
row's id (`?outbox=<id>`), and Twilio signs that URL when it reports, so each delivery
report names its row. Twilio's Message resource does not give the callback URL back,
so after a crash `candidates` can only list Twilio's messages to that number with the
same text; the dispatcher claims for a row only one that no other row holds.

The sender never retries by itself: each `send` is one provider call and either a
receipt or a `SendError` saying what the next attempt should be.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from bot.channels.sms.render import render_sms
from bot.outbound.sending import OutgoingMessage, SendError, SendReceipt
from flows.clock import Clock
from storage.enums import Channel

log = logging.getLogger(__name__)

#: Twilio error codes, by what they mean for the resident and the next attempt.
OPTED_OUT_CODES = frozenset({21610})
UNREACHABLE_CODES = frozenset({21211, 21614, 30004, 30005, 30006})
TRANSIENT_CODES = frozenset({20429, 30003, 30008})
#: Twilio's accepted range for validity_period, in seconds.
MIN_VALIDITY = 1
MAX_VALIDITY = 36000
#: Retry-After when Twilio throttles without saying for how long.
DEFAULT_BUSY_SECONDS = 5.0
#: Our credentials or sender are wrong: every message would fail, so wait for a fix.
CONFIG_ERROR_RETRY_SECONDS = 300.0
#: Messages Twilio lists for one recipient when reconciling (newest first).
RECONCILE_PAGE = 50
#: How long before a row's claim time its Twilio message may have been created: the two
#: clocks differ a little, and a live dispatcher renews the claims of a paced batch until
#: the whole batch is recorded (a batch of 100 at 1 text a second takes 100 s).
RECONCILE_SLACK = timedelta(minutes=10)
#: Twilio's words for a message it could not deliver: no proof the resident has it.
UNDELIVERED = frozenset({"failed", "undelivered", "canceled"})
#: The StatusCallback URL's query parameter naming the outbox row a report is about.
REFERENCE_PARAM = "outbox"


class TwilioHttpError(Exception):
    """A response the caller must not treat as an API answer (throttled, server error)."""

    def __init__(self, status: int, code: int | None, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}" + (f" (Twilio {code})" if code else ""))
        self.status = status
        self.code = code
        self.retry_after = retry_after


class TwilioTimeout(Exception):
    """No answer in time: the request may or may not have reached Twilio."""


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]  # twilio ships no types
    """The twilio client's HTTP layer on httpx, optionally aimed at another host."""

    def __init__(self, *, api_base: str | None, timeout: float) -> None:
        super().__init__(log, True, timeout)
        self._base = urlsplit(api_base) if api_base else None
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )

    def rewrite(self, url: str) -> str:
        """api.twilio.com/... -> {api_base}/...; every Twilio host maps to the one base."""
        if self._base is None:
            return url
        parts = urlsplit(url)
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        try:
            response = await self._http.request(
                method.upper(),
                self.rewrite(uri),
                params=_query(params),
                data=_form(data),
                headers=headers,
                auth=auth,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                follow_redirects=allow_redirects,
            )
        except httpx.TimeoutException as exc:
            raise TwilioTimeout(f"{method} {urlsplit(uri).path}: {exc.__class__.__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TwilioHttpError(
                response.status_code, _error_code(response), _retry_after(response)
            )
        return TwilioResponse(response.status_code, response.text, response.headers)

    async def aclose(self) -> None:
        await self._http.aclose()


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    #: One of these two says who the text comes from; the Messaging Service wins.
    messaging_service_sid: str | None
    from_number: str | None
    #: Where Twilio reports delivery: {public_base_url}/webhooks/twilio/status.
    status_callback_url: str
    api_base: str | None = None
    rate_per_second: float = 1.0
    timeout_seconds: float = 10.0


class RateLimiter:
    """Evenly spaced sends at `rate` per second, shared by every caller of one sender.

    Carriers filter numbers that burst, and Twilio queues (and eventually fails) what a
    sender exceeds, so we space messages ourselves rather than find out by error 30022.
    """

    def __init__(self, rate_per_second: float) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate_per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            now = loop.time()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class TwilioSender:
    """The SMS `Sender`: one Twilio API call per message."""

    channel = Channel.SMS

    def __init__(self, config: TwilioConfig, *, clock: Clock) -> None:
        if not (config.messaging_service_sid or config.from_number):
            raise ValueError("a Messaging Service SID or a From number is required")
        self._config = config
        self._clock = clock
        self._http = HttpxTwilioClient(api_base=config.api_base, timeout=config.timeout_seconds)
        self._client = Client(
            config.account_sid, config.auth_token, http_client=self._http, environment={}
        )
        self._limiter = RateLimiter(config.rate_per_second)

    async def send(self, message: OutgoingMessage) -> SendReceipt:
        started = self._clock.now()
        body = render_sms(message.text, message.options)
        arguments: dict[str, Any] = {
            "to": message.address,
            "body": body.text,
            "status_callback": callback_url(self._config.status_callback_url, message.outbox_id),
        }
        if self._config.messaging_service_sid:
            arguments["messaging_service_sid"] = self._config.messaging_service_sid
        else:
            arguments["from_"] = self._config.from_number
        validity = validity_seconds(message.expires_at, now=started)
        if validity is not None:
            arguments["validity_period"] = validity
        await self._limiter.wait()
        try:
            created = await self._client.messages.create_async(**arguments)
        except TwilioTimeout as exc:
            raise SendError(
                f"Twilio did not answer in time; checked before any resend ({exc})",
                permanent=False,
                code="timeout",
            ) from exc
        except TwilioHttpError as exc:
            raise _transient(exc) from exc
        except TwilioRestException as exc:
            raise classify_rest_error(exc.status, exc.code, str(exc.msg)) from exc
        except TwilioException as exc:  # a body the client could not read
            raise SendError(f"unexpected answer from Twilio: {exc}", permanent=False) from exc
        except httpx.TransportError as exc:  # connection refused or reset before sending
            raise SendError(
                f"could not reach Twilio: {exc.__class__.__name__}", permanent=False
            ) from exc
        return SendReceipt(
            provider_message_id=created.sid,
            status=str(created.status or "queued"),
            segments=_int(created.num_segments) or body.segments,
        )

    async def reconcile(self, message: OutgoingMessage, *, since: datetime) -> SendReceipt | None:
        """The oldest of `candidates`, or None when Twilio has nothing like it.

        Only a guess when the same text went to the same number more than once: the
        dispatcher uses `candidates` and claims one no other outbox row holds.
        """
        found = await self.candidates(message, since=since)
        return found[0] if found else None

    async def candidates(self, message: OutgoingMessage, *, since: datetime) -> list[SendReceipt]:
        """Twilio's messages that could be this one, oldest first.

        Twilio has no idempotency key and does not give the StatusCallback URL (our
        reference) back, so a message matches on recipient, body and creation time (not
        before `since`, less a little slack for the two clocks). One Twilio could not
        deliver is left out: it proves nothing reached the resident. Several matches
        mean the same text went to the same number more than once: which of them is
        whose is for the caller to settle against the SIDs its other rows hold.
        """
        body = render_sms(message.text, message.options).text
        filters: dict[str, Any] = {"to": message.address}
        if not self._config.messaging_service_sid and self._config.from_number:
            filters["from_"] = self._config.from_number
        try:
            recent = await self._client.messages.list_async(
                **filters, limit=RECONCILE_PAGE, page_size=RECONCILE_PAGE
            )
        except TwilioTimeout as exc:
            raise SendError(f"could not check Twilio: {exc}", permanent=False) from exc
        except TwilioHttpError as exc:
            raise _transient(exc) from exc
        except (TwilioException, httpx.TransportError) as exc:
            raise SendError(f"could not check Twilio: {exc}", permanent=False) from exc
        earliest = since - RECONCILE_SLACK
        found: list[SendReceipt] = []
        for item in recent:  # newest first, as Twilio lists them
            created_at = item.date_created
            if item.body != body or (created_at is not None and created_at < earliest):
                continue
            if item.direction not in (None, "outbound-api", "outbound-call", "outbound-reply"):
                continue
            if str(item.status or "") in UNDELIVERED or not item.sid:
                continue
            found.append(
                SendReceipt(
                    provider_message_id=item.sid,
                    status=str(item.status or "queued"),
                    segments=_int(item.num_segments),
                )
            )
        found.reverse()
        return found

    async def aclose(self) -> None:
        await self._http.aclose()


def callback_url(base: str, outbox_id: int) -> str:
    """The StatusCallback URL for one outbox row: `base` with `?outbox=<id>` added.

    Twilio posts each delivery report for the message to exactly this URL and signs it,
    query included, so the reference cannot be forged and the webhook, which checks the
    signature against the URL it was called on, needs nothing new to accept it.
    """
    parts = urlsplit(base)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != REFERENCE_PARAM
    ]
    query.append((REFERENCE_PARAM, str(outbox_id)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def validity_seconds(expires_at: datetime | None, *, now: datetime) -> int | None:
    """Seconds Twilio may hold the message before dropping it, within Twilio's 1..36000."""
    if expires_at is None:
        return None
    seconds = int((expires_at - now).total_seconds())
    return max(MIN_VALIDITY, min(MAX_VALIDITY, seconds))


def classify_rest_error(status: int, code: int | None, detail: str) -> SendError:
    """A Twilio 4xx answer as what it means for this resident and the next attempt."""
    label = f"Twilio {code}" if code else f"HTTP {status}"
    text = f"{label}: {detail}"
    if code in OPTED_OUT_CODES:
        return SendError(text, permanent=True, code=str(code), opted_out=True)
    if code in UNREACHABLE_CODES:
        return SendError(text, permanent=True, code=str(code), unreachable=True)
    if code in TRANSIENT_CODES:
        return SendError(text, permanent=False, code=str(code), retry_after=DEFAULT_BUSY_SECONDS)
    if status in (401, 403) or code in (20003, 20005, 21606, 21701, 21705):
        # Our account, token or sender is wrong: no resident should lose a message to it.
        log.error("Twilio rejected our account or sender configuration: %s", text)
        return SendError(
            text,
            permanent=False,
            code=str(code) if code else str(status),
            retry_after=CONFIG_ERROR_RETRY_SECONDS,
        )
    return SendError(text, permanent=True, code=str(code) if code else str(status))


def _transient(exc: TwilioHttpError) -> SendError:
    retry_after = exc.retry_after
    if retry_after is None and exc.status == 429:
        retry_after = DEFAULT_BUSY_SECONDS
    return SendError(
        f"Twilio is busy or failing: {exc}",
        permanent=False,
        code=str(exc.code) if exc.code else str(exc.status),
        retry_after=retry_after,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare for Twilio, and the dispatcher's backoff will do


def _error_code(response: httpx.Response) -> int | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    code = payload.get("code") if isinstance(payload, Mapping) else None
    return code if isinstance(code, int) else None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _query(params: Mapping[str, object] | None) -> dict[str, str] | None:
    if not params:
        return None
    return {key: str(value) for key, value in params.items()}


def _form(data: Mapping[str, object] | None) -> dict[str, str | list[str]] | None:
    """Form fields in Twilio's encoding: booleans as true/false, lists as repeated keys."""
    if not data:
        return None
    fields: dict[str, str | list[str]] = {}
    for key, value in data.items():
        if isinstance(value, list | tuple):
            fields[key] = [_field(item) for item in value]
        else:
            fields[key] = _field(value)
    return fields


def _field(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
