"""The production interpreter: a Rasa 3.6 NLU server over HTTP, with a local fall-back.

Understanding a resident must never be the reason a reply is not sent, so every way Rasa can
fail us (down, slow, wrong token, an answer we cannot read) ends in the fall-back interpreter
(the built-in one) rather than an exception. A dead server would otherwise log once per
inbound message; we warn once when a failure burst starts and once when Rasa recovers, and
keep counters for health checks.

Rasa does not know our `time` entity: resolving "tomorrow after 2" needs the message's own
timestamp and the resident's time zone, which only we have. We therefore resolve times
ourselves with `nlu.timeexpr.find_times` and replace any unresolved `time` spans Rasa may have
tagged, so consumers always see the same resolved value shape whichever interpreter answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import httpx

from nlu.interpreter import DEFAULT_TIMEZONE, Interpreter
from nlu.types import Entity, ParseResult

TIME_EXTRACTOR = "DoorstepTimeResolver"
DEFAULT_TIMEOUT = 1.5

_log = logging.getLogger(__name__)


class TimeMatchLike(Protocol):
    """What we need from `nlu.timeexpr.TimeMatch`; a protocol so tests can pass their own."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def value(self) -> Any: ...


TimeFinder = Callable[..., Sequence[TimeMatchLike]]
"""Called as `finder(text, now=now, tz=tz)`, like `nlu.timeexpr.find_times`."""


class RasaUnavailable(Exception):
    """Why one call to Rasa could not be used; the message is the reason we log."""


def _default_time_finder() -> TimeFinder:
    # Imported on first use so this module stays importable (and the fall-back tests runnable)
    # while the time resolver is being developed separately.
    from nlu.timeexpr import find_times

    return find_times


class RasaInterpreter:
    """`Interpreter` backed by `POST {url}/model/parse` on a Rasa server.

    The HTTP client is injectable so tests can drive failure modes with
    `httpx.MockTransport`; a client passed in stays owned by the caller and `aclose` leaves
    it open.
    """

    name = "rasa"

    def __init__(
        self,
        url: str,
        *,
        fallback: Interpreter,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
        time_finder: TimeFinder | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"Rasa timeout must be positive, got {timeout!r}")
        self._parse_url = url.rstrip("/") + "/model/parse"
        self._token = token or None
        self._timeout = timeout
        self._fallback = fallback
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)
        self._time_finder = time_finder
        self._log = logger or _log
        self._failing_since_reason: str | None = None
        self.rasa_answers = 0
        self.fallback_answers = 0

    @property
    def degraded(self) -> bool:
        """True while the last call to Rasa failed: answers come from the fall-back."""
        return self._failing_since_reason is not None

    async def parse(
        self,
        text: str,
        *,
        now: datetime,
        tz: str = DEFAULT_TIMEZONE,
        message_id: str | None = None,
    ) -> ParseResult:
        try:
            parsed = await self._call_rasa(text, message_id)
        except RasaUnavailable as exc:
            self._note_failure(str(exc))
            self.fallback_answers += 1
            return await self._fallback.parse(text, now=now, tz=tz)
        self._note_success()
        self.rasa_answers += 1
        return self._with_times(parsed, text, now=now, tz=tz)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _call_rasa(self, text: str, message_id: str | None) -> ParseResult:
        body: dict[str, Any] = {"text": text}
        if message_id is not None:
            body["message_id"] = message_id
        params = {"token": self._token} if self._token else None
        try:
            # httpx's timeout is per phase (connect, each read...); a server trickling bytes
            # could exceed it many times over, so the whole call also gets one deadline.
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(
                    self._parse_url, json=body, params=params, timeout=self._timeout
                )
        except (TimeoutError, httpx.TimeoutException):
            raise RasaUnavailable(f"no answer within {self._timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc or 'transport error'}") from None
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code} {_snippet(response.text)}")
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RasaUnavailable(f"not JSON: {_snippet(response.text)}") from None
        if not isinstance(data, dict):
            raise RasaUnavailable(f"unexpected JSON {type(data).__name__}, wanted an object")
        intent = data.get("intent")
        if not isinstance(intent, dict) or not isinstance(intent.get("name"), str):
            raise RasaUnavailable("answer has no intent name (is an NLU model loaded?)")
        try:
            return ParseResult.from_dict(data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RasaUnavailable(f"malformed parse ({type(exc).__name__}: {exc})") from None

    def _with_times(self, result: ParseResult, text: str, *, now: datetime, tz: str) -> ParseResult:
        finder = self._time_finder or _default_time_finder()
        times = tuple(
            Entity(
                entity="time",
                value=m.value,
                start=m.start,
                end=m.end,
                extractor=TIME_EXTRACTOR,
                text=m.text,
            )
            for m in finder(text, now=now, tz=tz)
        )
        kept = tuple(e for e in result.entities if e.entity != "time")
        entities = tuple(sorted(kept + times, key=lambda e: (e.start, e.end)))
        return ParseResult(
            text=result.text,
            intent=result.intent,
            intent_ranking=result.intent_ranking,
            entities=entities,
        )

    def _note_failure(self, reason: str) -> None:
        if self._failing_since_reason is None:
            self._failing_since_reason = reason
            self._log.warning(
                "Rasa NLU at %s unavailable (%s); answering with the %r interpreter until it"
                " recovers",
                self._parse_url,
                reason,
                self._fallback.name,
            )
        else:
            self._log.debug("Rasa NLU still unavailable (%s)", reason)

    def _note_success(self) -> None:
        if self._failing_since_reason is not None:
            self._log.info(
                "Rasa NLU at %s answering again after a failure burst (%d fall-back answers so"
                " far; first reason: %s)",
                self._parse_url,
                self.fallback_answers,
                self._failing_since_reason,
            )
            self._failing_since_reason = None


def _snippet(body: str, limit: int = 120) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
