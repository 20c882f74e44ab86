"""The ASGI application: one FastAPI app for webhooks, the simulator and staff pages."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import time, timedelta

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.channels.senders import senders_from_settings
from bot.common.clock import SimulatedClock, SystemClock
from bot.common.flowset import default_flows
from bot.common.interpreters import interpreter_from_settings
from bot.common.links import PhotoLinkSigner
from bot.common.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.common.metrics import Metrics
from bot.inbound.pipeline import Pipeline
from bot.outbound.retention import RetentionPolicy
from bot.outbound.scheduler import Intervals, Scheduler
from bot.runtime import STATIC_DIR, TEMPLATES_DIR, Runtime
from bot.settings import Settings
from bot.web.headers import SecurityHeaders
from flows.clock import Clock
from nlu.interpreter import Interpreter
from storage.db import Database
from storage.migrate import is_up_to_date

log = logging.getLogger(__name__)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    interpreter: Interpreter | None = None,
    rng: random.Random | None = None,
) -> Runtime:
    db = Database(settings.database_url)
    clock = clock or (SimulatedClock() if settings.simulator else SystemClock())
    interpreter = interpreter or interpreter_from_settings(settings)
    secret = (
        settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_hex(32)
    )
    links = PhotoLinkSigner(secret, settings.public_base_url, clock)
    metrics = Metrics()
    metrics.watch_outbox(db, clock)
    pipeline = Pipeline(
        db=db,
        interpreter=interpreter,
        flows=default_flows(),
        clock=clock,
        zone=settings.zone,
        links=links,
        rng=rng or random.SystemRandom(),
        metrics=metrics,
    )
    return Runtime(
        settings=settings,
        db=db,
        clock=clock,
        interpreter=interpreter,
        pipeline=pipeline,
        templates=Jinja2Templates(directory=str(TEMPLATES_DIR)),
        links=links,
        metrics=metrics,
    )


def build_scheduler(runtime: Runtime, *, worker_id: str, dispatch: bool = True) -> Scheduler:
    """The background jobs for a running service, with the channels its settings configure."""
    settings = runtime.settings
    return Scheduler(
        db=runtime.db,
        clock=runtime.clock,
        zone=settings.zone,
        flows=default_flows(),
        senders=senders_from_settings(settings, clock=runtime.clock) if dispatch else {},
        intervals=Intervals(
            plan=settings.plan_interval_seconds,
            dispatch=settings.dispatch_interval_seconds,
            recover=settings.recover_interval_seconds,
        ),
        worker_id=worker_id,
        dispatch=dispatch,
        metrics=runtime.metrics,
        recover=lambda: runtime.pipeline.process_pending(
            older_than=timedelta(seconds=settings.recover_after_seconds)
        ),
        retention=RetentionPolicy.from_settings(settings),
        retention_at=time.fromisoformat(settings.retention_at),
    )


async def start_in_process(runtime: Runtime) -> Scheduler | None:
    """`doorstep serve`'s jobs, unless DOORSTEP_SCHEDULER_IN_PROCESS=false (then run
    `doorstep scheduler` separately)."""
    if not runtime.settings.scheduler_in_process:
        return None
    scheduler = build_scheduler(runtime, worker_id=f"serve-{os.getpid()}")
    await scheduler.start()
    return scheduler


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    interpreter: Interpreter | None = None,
    rng: random.Random | None = None,
) -> FastAPI:
    runtime = build_runtime(settings, clock=clock, interpreter=interpreter, rng=rng)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not await asyncio.to_thread(is_up_to_date, settings.database_url):
            log.warning("database schema is not at the latest migration: run `doorstep db upgrade`")
        # Warm the interpreter so the first resident does not wait for training.
        await runtime.interpreter.parse("hello", now=runtime.clock.now(), tz=settings.timezone)
        # Planner, dispatcher, sweeps (bot/outbound/scheduler.py) unless scheduler_in_process
        # is off.
        scheduler = await start_in_process(runtime)
        if telegram is not None:  # Telegram (issue 5): the PTB Application's lifetime
            await telegram.startup()
        # Messages stored but never answered (the process died between the webhook's
        # acknowledgment and the answer) are answered now, in the background.
        # Only messages stored before start-up: newer ones are this process's own requests.
        newest = await asyncio.to_thread(runtime.pipeline.last_inbound_id)
        recovery = asyncio.create_task(runtime.pipeline.process_pending(up_to_id=newest))
        yield
        if not recovery.done():
            recovery.cancel()
        if telegram is not None:
            await telegram.shutdown()
        if scheduler is not None:
            await scheduler.shutdown()
        close = getattr(runtime.interpreter, "aclose", None)
        if close is not None:
            await close()
        runtime.db.dispose()

    app = FastAPI(title="Doorstep", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(SecurityHeaders)  # CSP, no framing, no-store (bot/web/headers.py)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> Response:
        """422 with the problems found, written as ASCII JSON: FastAPI's own answer echoes
        the input as UTF-8, which a lone surrogate cannot be, and became a 500."""
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    app.state.runtime = runtime
    # Telegram (issue 5): POST /webhooks/telegram and app.state.telegram, or a log line.
    from bot.channels.telegram.setup import mount_telegram

    telegram = mount_telegram(app, runtime)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        body = await asyncio.to_thread(runtime.metrics.render)
        return Response(body, media_type=METRICS_CONTENT_TYPE)

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        try:
            await asyncio.to_thread(runtime.db.ping)
        except Exception as exc:  # noqa: BLE001  (a health check reports, never raises)
            log.warning("health check failed: %s", exc.__class__.__name__)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse(
            {"status": "ok", "database": runtime.db.dialect, "nlu": runtime.interpreter.name}
        )

    from bot.api.app import api_mount  # the landlord integration API (issue 14)

    app.router.routes.append(api_mount(runtime))
    from bot.web.public_pages import router as public_router

    app.include_router(public_router)
    from bot.web.staff import router as staff_router  # staff web app: bot/web/staff/

    app.include_router(staff_router)
    if settings.simulator:
        from bot.web.simulator import router as simulator_router

        app.include_router(simulator_router)
    # SMS through Twilio (bot/channels/sms/setup.py): webhooks when configured, else a log line.
    from bot.channels.sms.setup import sms_router_from_settings

    if (sms_router := sms_router_from_settings(settings)) is not None:
        app.include_router(sms_router)
    return app


__all__ = ["Jinja2Templates", "create_app"]
