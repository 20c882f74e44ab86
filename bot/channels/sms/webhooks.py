"""Twilio's two webhooks, signed: a resident's text arriving (bot/channels/sms/inbound.py)
and what became of a text we sent (bot/channels/sms/status.py).

The signature is checked against the public URL (behind a TLS proxy the URL the app sees
is not the one Twilio signed); an unsigned or badly signed request is refused with 403
and nothing is stored. The form is read strictly (bot/channels/sms/forms.py): only
urlencoded (415), bounded (413), each name once and a MessageSid of Twilio's exact shape
(400), because one Twilio signature fits more than one form. No malformed request is
ever a 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from bot.channels.sms.forms import BadRequest, read_form
from bot.channels.sms.inbound import PROCESS_CONCURRENCY, InboundWork, parse_inbound
from bot.channels.sms.status import _record_status, parse_status
from bot.common.events import Disposition
from bot.inbound.ratelimit import over_limit
from bot.runtime import Runtime

log = logging.getLogger(__name__)

INBOUND_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
#: What a flood turns into RATE_LIMITED; a text Twilio flagged as a carrier keyword never is.
_LIMITED = frozenset({Disposition.ANSWER, Disposition.UNANSWERED_NUMBER})


def sms_router(
    *, auth_token: str, public_base_url: str, concurrency: int = PROCESS_CONCURRENCY
) -> APIRouter:
    """The webhook routes; the app's runtime is read from `app.state.runtime` per request."""
    validator = RequestValidator(auth_token)
    work = InboundWork(concurrency)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await work.drain()
        work.close()

    router = APIRouter(lifespan=lifespan)

    async def signed_form(request: Request) -> FormData | Response:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            log.warning("Twilio webhook without signature refused path=%s", request.url.path)
            return Response(status_code=403)
        try:
            form = await read_form(request)
        except BadRequest as exc:
            log.warning(
                "Twilio webhook refused (%s) path=%s: %s", exc.status_code, request.url.path, exc
            )
            return Response(str(exc), status_code=exc.status_code)
        url = public_base_url + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not validator.validate(url, form, signature):
            log.warning("Twilio webhook with a bad signature refused path=%s", request.url.path)
            return Response(status_code=403)
        return form

    @router.post(INBOUND_PATH)
    async def inbound_sms(request: Request) -> Response:
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        runtime: Runtime = request.app.state.runtime
        try:
            message, disposition = parse_inbound(form, now=runtime.clock.now())
        except BadRequest as exc:
            return Response(str(exc), status_code=exc.status_code)
        limit = runtime.settings.webhook_rate_per_minute
        state = request.app.state
        flood = over_limit(state, limit, channel="sms", sender=message.address, text=message.text)
        if flood is not None and disposition in _LIMITED:
            # 200, so Twilio does not redeliver the flood: stored, never answered.
            disposition = Disposition.RATE_LIMITED
        try:
            stored = await work.store(runtime, message, disposition)
        except DBAPIError as exc:
            log.error("inbound SMS not stored, database unavailable: %s", exc.__class__.__name__)
            return Response("database unavailable", status_code=503)
        if stored is not None:
            work.submit(runtime, *stored)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post(STATUS_PATH)
    async def delivery_status(request: Request) -> Response:
        form = await signed_form(request)
        if isinstance(form, Response):
            return form
        try:
            report = parse_status(form)
        except BadRequest as exc:
            return Response(str(exc), status_code=exc.status_code)
        runtime: Runtime = request.app.state.runtime
        try:
            await asyncio.to_thread(_record_status, runtime, report)
        except DBAPIError as exc:
            log.error("delivery status not recorded, database unavailable: %s", exc)
            return Response("database unavailable", status_code=503)
        return Response(status_code=204)

    return router
