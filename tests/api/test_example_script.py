"""docs/examples/housing_system.py plays a housing management system end to end against a
running Doorstep (issue 14 item 7): the real app under uvicorn on a loopback port with the
scheduler running, the script's own webhook receiver checking every signature."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn

from bot.app import create_app
from bot.cli.demo import load_demo
from bot.outbound.webhooks import subscribe
from bot.settings import load_settings
from storage.db import Database
from storage.repositories import api_keys, landlords

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "housing_system.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("housing_system", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def running(db: Database, tmp_path: Path) -> Iterator[str]:
    """`doorstep serve` as in production, with the scheduler in process and the real clock."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    assert load_demo(db, now=datetime.now(UTC), public_base_url=base)
    settings = load_settings(
        database_url=db.url,
        simulator=True,
        scheduler_in_process=True,
        nlu="keyword",
        public_base_url=base,
        nlu_cache_dir=tmp_path / "nlu",
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.1)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_example_housing_system_runs_end_to_end(
    running: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver_port = _free_port()
    now = datetime.now(UTC)
    with db.session() as session:
        demo = landlords.by_reference(session, reference="demo")
        assert demo is not None and demo.id is not None
        key = api_keys.create(session, landlord_id=demo.id, name="HMS", scope="write", now=now)
        secret = subscribe(
            session,
            landlord_id=demo.id,
            url=f"http://127.0.0.1:{receiver_port}/doorstep",
            kinds=(),
            now=now,
        ).secret

    code = _script().main(
        [
            "--base-url", running, "--key", key.key, "--webhook-secret", secret,
            "--receiver-port", str(receiver_port), "--wait", "30",
        ]
    )  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0, out
    assert "calling as landlord demo (write key)" in out
    assert "job EX-J1: created" in out and "job EX-J1: unchanged" in out
    assert "created:" in out and "moved:" in out
    assert "job status: cancelled" in out
    feed = [line.split()[2] for line in out.splitlines() if line.strip().startswith("feed")]
    hooks = [line.split()[2] for line in out.splitlines() if line.strip().startswith("webhook")]
    assert feed == ["appointment.booked", "appointment.changed", "appointment.cancelled"]
    assert hooks == feed  # every event arrived signed (a bad signature would fail the run)
