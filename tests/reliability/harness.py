"""The real service as separate processes, for tests that kill it or its dependencies.

`Service` runs `doorstep serve` (the console entry point, as a landlord runs it) in a
subprocess on a free loopback port, with Twilio pointed at a fake Twilio that runs in
the test process. `Twilio` posts signed inbound texts as Twilio does, retrying a request
that failed with the same MessageSid. `start_dispatcher` runs the real `Dispatcher`
with the real Twilio client in a subprocess on a fixed clock (the contact policy then
behaves the same whatever time the suite runs), so a test can SIGKILL it mid-send; like
the scheduler after a restart, it first reconciles the rows a dead one left `sending`.

Run as a script, this module is that dispatcher process:

    python tests/reliability/harness.py dispatch DATABASE_URL TWILIO_URL ISO_MOMENT
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
for _path in (ROOT, TESTS):  # as a script, neither is on sys.path
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from fakes.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, sign  # noqa: E402

INBOUND_PATH = "/webhooks/twilio/sms"
TWILIO_NUMBER = "+447700900000"
DOORSTEP = ROOT / ".venv" / "bin" / "doorstep"
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def service_env(
    database_url: str, port: int, twilio_base: str, nlu_cache: Path, **extra: str
) -> dict[str, str]:
    """DOORSTEP_* for a production-like service: no simulator, SMS on, no jobs in process."""
    base = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DOORSTEP_") or key == "DOORSTEP_TEST_POSTGRES_URL"
    }
    env.update(
        {
            "DOORSTEP_DATABASE_URL": database_url,
            "DOORSTEP_HOST": "127.0.0.1",
            "DOORSTEP_PORT": str(port),
            "DOORSTEP_PUBLIC_BASE_URL": base,
            "DOORSTEP_SIMULATOR": "false",
            "DOORSTEP_SECRET_KEY": secrets.token_hex(32),
            "DOORSTEP_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "DOORSTEP_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "DOORSTEP_TWILIO_FROM": TWILIO_NUMBER,
            "DOORSTEP_TWILIO_API_BASE": twilio_base,
            "DOORSTEP_TWILIO_RATE_PER_SECOND": "100",
            "DOORSTEP_SCHEDULER_IN_PROCESS": "false",
            "DOORSTEP_NLU_CACHE_DIR": str(nlu_cache),
            "DOORSTEP_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


@dataclass
class Service:
    """`doorstep serve` in a subprocess; `start()` waits for /healthz, `kill()` is SIGKILL."""

    env: Mapping[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, healthy: bool = True) -> Service:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(DOORSTEP), "serve"],
            cwd=ROOT,
            env=dict(self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        self.wait_listening(healthy=healthy)
        return self

    def wait_listening(self, *, healthy: bool = True) -> None:
        """Until /healthz answers (200, or anything at all when not `healthy`)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}: {self.log()}")
            try:
                status = httpx.get(self.base + "/healthz", timeout=2.0).status_code
                if status == 200 or not healthy:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"service not up in {START_TIMEOUT:g} s: {self.log()[-2000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when the host loses power."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Delivery:
    sid: str
    sender: str
    body: str
    #: Every HTTP status (or "error" for a broken connection) Twilio saw, in order.
    attempts: list[str] = field(default_factory=list)


class Twilio:
    """Posts signed inbound texts as Twilio does; a failed request is sent again, same SID."""

    def __init__(self, base: str, *, timeout: float = 10.0) -> None:
        self.base = base
        self.client = httpx.Client(base_url=base, timeout=timeout)

    def form(self, delivery: Delivery) -> dict[str, str]:
        return {
            "MessageSid": delivery.sid,
            "SmsSid": delivery.sid,
            "SmsMessageSid": delivery.sid,
            "AccountSid": ACCOUNT_SID,
            "From": delivery.sender,
            "To": TWILIO_NUMBER,
            "Body": delivery.body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }

    def post_once(self, delivery: Delivery) -> str:
        form = self.form(delivery)
        signature = sign(self.base + INBOUND_PATH, form)
        try:
            response = self.client.post(
                INBOUND_PATH, data=form, headers={"X-Twilio-Signature": signature}
            )
        except httpx.TransportError:
            delivery.attempts.append("error")
            return "error"
        delivery.attempts.append(str(response.status_code))
        return str(response.status_code)

    def deliver(self, delivery: Delivery, *, until: float, pause: float = 0.2) -> bool:
        """Post until acknowledged (200) or `until` (monotonic) passes."""
        while time.monotonic() < until:
            if self.post_once(delivery) == "200":
                return True
            time.sleep(pause)
        return False

    def close(self) -> None:
        self.client.close()


# -- the dispatcher process -------------------------------------------------------------


def dispatcher_command(database_url: str, twilio_base: str, at: datetime) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__)),
        "dispatch",
        database_url,
        twilio_base,
        at.isoformat(),
    ]


def start_dispatcher(
    database_url: str, twilio_base: str, at: datetime, log_path: Path
) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    try:
        return subprocess.Popen(
            dispatcher_command(database_url, twilio_base, at),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        log.close()


def sigkill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def twilio_settings_for(database_url: str, twilio_base: str, *, rate: float) -> object:
    from bot.settings import load_settings

    return load_settings(
        database_url=database_url,
        simulator=False,
        secret_key=secrets.token_hex(32),
        public_base_url="http://127.0.0.1:9",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=TWILIO_NUMBER,
        twilio_api_base=twilio_base,
        twilio_rate_per_second=rate,
        scheduler_in_process=False,
    )


async def _dispatch_forever(database_url: str, twilio_base: str, at: datetime) -> None:
    """Reconcile what an earlier process left `sending`, then send everything due at
    `at`, paced like a long code, until killed."""
    from bot.channels.sms.setup import sms_sender_from_settings
    from bot.common.clock import FixedClock
    from bot.outbound.dispatcher import Dispatcher
    from bot.settings import Settings
    from storage.db import Database
    from storage.enums import Channel

    settings = twilio_settings_for(database_url, twilio_base, rate=25)
    assert isinstance(settings, Settings)
    clock = FixedClock(at)
    sender = sms_sender_from_settings(settings, clock=clock)
    db = Database(database_url)
    dispatcher = Dispatcher(
        db=db,
        senders={Channel.SMS: sender},
        clock=clock,
        zone=settings.zone,
        worker_id=f"doomed-{os.getpid()}",
        batch_size=10,
    )
    print(f"reconciled {await dispatcher.reconcile_stuck()}", flush=True)
    print("dispatching", flush=True)
    while True:
        stats = await dispatcher.run_once()
        print(f"cycle sent={stats.sent}", flush=True)
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "dispatch":
        sys.exit(__doc__)
    asyncio.run(_dispatch_forever(sys.argv[2], sys.argv[3], datetime.fromisoformat(sys.argv[4])))
