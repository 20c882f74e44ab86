"""The Rasa interpreter, its fall-back, the interpreter factory and Rasa training.

Tests marked `rasa` talk to a real Rasa 3.6 server (`.ci/rasa.sh up`, then source
var/ci/rasa.env). Everything else needs no Rasa and always runs: a Rasa that is down, slow,
refusing us or talking nonsense must never stop the service from understanding residents.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import socket
import stat
import subprocess
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import typer
from typer.testing import CliRunner

from nlu.builtin import BuiltinInterpreter
from nlu.factory import build_interpreter
from nlu.interpreter import Interpreter
from nlu.rasa_client import TIME_EXTRACTOR, RasaInterpreter
from nlu.rasa_train import (
    NOT_FOUND_HINT,
    RasaTrainingError,
    TrainingInputs,
    find_rasa,
    model_name,
    train_rasa_model,
)
from nlu.types import FALLBACK_INTENT, INTENTS, ParseResult

T = TypeVar("T")
LOGGER = "nlu.rasa_client"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def need(reason: str) -> None:
    """Skip locally, fail in CI: tests that need Rasa must really run there."""
    if in_ci():
        pytest.fail(f"{reason}, but CI=true and Rasa tests are mandatory in CI")
    pytest.skip(reason)


@dataclass(frozen=True)
class RasaServer:
    url: str
    token: str


@pytest.fixture(scope="module")
def rasa_server() -> RasaServer:
    url = os.environ.get("DOORSTEP_TEST_RASA_URL", "")
    if not url:
        need(
            "no Rasa server: set DOORSTEP_TEST_RASA_URL and DOORSTEP_TEST_RASA_TOKEN"
            " (run `.ci/rasa.sh up` and `source var/ci/rasa.env`)"
        )
    return RasaServer(url=url, token=os.environ.get("DOORSTEP_TEST_RASA_TOKEN", ""))


class MustNotFallBack:
    """A fall-back that fails the test if used: proves the answer came from Rasa."""

    name = "must-not-fall-back"

    async def parse(self, text: str, *, now: datetime, tz: str = "Europe/London") -> ParseResult:
        raise AssertionError(f"fall-back used for {text!r}: Rasa did not answer")


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def closed_loopback_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def rasa_json(text: str, intent: str, confidence: float, **extra: Any) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": [],
        **extra,
    }


@dataclass(frozen=True)
class FakeTimeMatch:
    start: int
    end: int
    text: str
    value: Any


def no_times(text: str, *, now: datetime, tz: str) -> list[FakeTimeMatch]:
    return []


# --- against a real Rasa server ---------------------------------------------------------------


@pytest.mark.rasa
def test_parse_has_rasas_shape_with_code_entity(rasa_server: RasaServer, now: datetime) -> None:
    async def go() -> ParseResult:
        rasa = RasaInterpreter(rasa_server.url, token=rasa_server.token, fallback=MustNotFallBack())
        try:
            result = await rasa.parse("check code 4821", now=now, message_id="sms-1")
            assert rasa.rasa_answers == 1
            assert not rasa.degraded
            return result
        finally:
            await rasa.aclose()

    result = run(go())
    assert result.text == "check code 4821"
    assert result.intent.name == "verify_operative"
    assert 0.0 < result.intent.confidence <= 1.0
    assert result.intent_ranking, "Rasa returns a ranking"
    assert {i.name for i in result.intent_ranking} <= {*INTENTS, FALLBACK_INTENT}
    confidences = [i.confidence for i in result.intent_ranking]
    assert confidences == sorted(confidences, reverse=True)
    codes = [e for e in result.entities if e.entity == "code"]
    assert codes, result.entities
    for code in codes:
        assert (code.start, code.end) == (11, 15)
        assert code.text == "4821"
        assert str(code.value) == "4821"
        assert code.extractor not in ("", "unknown")


@pytest.mark.rasa
def test_time_entities_are_resolved_by_doorstep(rasa_server: RasaServer, now: datetime) -> None:
    from nlu.timeexpr import find_times

    text = "can you come tomorrow afternoon instead"
    expected = find_times(text, now=now, tz="Europe/London")
    assert expected, "the time resolver should find 'tomorrow afternoon'"

    async def go() -> ParseResult:
        rasa = RasaInterpreter(rasa_server.url, token=rasa_server.token, fallback=MustNotFallBack())
        try:
            return await rasa.parse(text, now=now)
        finally:
            await rasa.aclose()

    result = run(go())
    times = [e for e in result.entities if e.entity == "time"]
    assert [(e.start, e.end, e.text, e.value) for e in times] == [
        (m.start, m.end, m.text, m.value) for m in expected
    ]
    assert {e.extractor for e in times} == {TIME_EXTRACTOR}
    assert all(text[e.start : e.end] == e.text for e in times)


CLEAR_CASES = [
    ("hello", "greet"),
    ("hiya good morning", "greet"),
    ("thanks", "thank"),
    ("thank you very much", "thank"),
    ("bye for now", "goodbye"),
    ("stop texting me", "opt_out"),
    ("check code 4821", "verify_operative"),
    ("i want to cancel my repair appointment", "cancel_visit"),
    ("can i move my appointment to another day", "rebook_visit"),
    ("when is my repair appointment", "ask_appointment"),
    ("can i speak to a real person please", "request_human"),
    ("nobody turned up for my repair today", "report_no_show"),
]


@pytest.mark.rasa
@pytest.mark.parametrize(("text", "intent"), CLEAR_CASES)
def test_rasa_agrees_with_builtin_on_clear_cases(
    rasa_server: RasaServer,
    builtin_interpreter: BuiltinInterpreter,
    now: datetime,
    text: str,
    intent: str,
) -> None:
    async def go() -> tuple[ParseResult, ParseResult]:
        rasa = RasaInterpreter(rasa_server.url, token=rasa_server.token, fallback=MustNotFallBack())
        try:
            return (
                await rasa.parse(text, now=now),
                await builtin_interpreter.parse(text, now=now),
            )
        finally:
            await rasa.aclose()

    from_rasa, from_builtin = run(go())
    assert (from_rasa.intent.name, from_builtin.intent.name) == (intent, intent)


@pytest.mark.rasa
def test_wrong_token_is_refused_and_falls_back(
    rasa_server: RasaServer,
    builtin_interpreter: BuiltinInterpreter,
    now: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def go() -> tuple[ParseResult, ParseResult, RasaInterpreter]:
        rasa = RasaInterpreter(
            rasa_server.url, token=rasa_server.token + "-wrong", fallback=builtin_interpreter
        )
        try:
            return (
                await rasa.parse("thanks", now=now),
                await builtin_interpreter.parse("thanks", now=now),
                rasa,
            )
        finally:
            await rasa.aclose()

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        got, builtin, rasa = run(go())
    assert got == builtin
    assert (rasa.rasa_answers, rasa.fallback_answers) == (0, 1)
    [warning] = warnings(caplog)
    assert "HTTP 401" in warning.getMessage()


# --- fall-back: no Rasa needed, always run -----------------------------------------------------


def test_server_stopped_answers_come_from_builtin_with_one_warning(
    builtin_interpreter: BuiltinInterpreter, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    texts = ["hello", "stop texting me", "check code 4821"]

    async def go() -> tuple[list[ParseResult], list[ParseResult], RasaInterpreter]:
        rasa = RasaInterpreter(closed_loopback_url(), token="t", fallback=builtin_interpreter)
        try:
            got = [await rasa.parse(t, now=now) for t in texts]
            want = [await builtin_interpreter.parse(t, now=now) for t in texts]
            return got, want, rasa
        finally:
            await rasa.aclose()

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        got, want, rasa = run(go())
    assert got == want
    assert rasa.degraded
    assert (rasa.rasa_answers, rasa.fallback_answers) == (0, 3)
    [warning] = warnings(caplog)  # one per burst, not one per message
    message = warning.getMessage()
    assert "ConnectError" in message
    assert "'builtin'" in message


def test_slow_server_times_out_to_fallback(
    builtin_interpreter: BuiltinInterpreter, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=rasa_json("hello", "greet", 0.99))

    async def go() -> tuple[ParseResult, ParseResult, float]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
            rasa = RasaInterpreter(
                "http://rasa.test", timeout=0.2, client=client, fallback=builtin_interpreter
            )
            started = time.monotonic()
            got = await rasa.parse("hello", now=now)
            elapsed = time.monotonic() - started
            return got, await builtin_interpreter.parse("hello", now=now), elapsed

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got, want, elapsed = run(go())
    assert got == want
    assert elapsed < 5, "the deadline, not the slow server, decides when we give up"
    [warning] = warnings(caplog)
    assert "no answer within 0.2s" in warning.getMessage()


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, b'{"status": "failure", "code": 500}', "HTTP 500"),
        (401, b'{"message": "User is not authenticated."}', "HTTP 401"),
        (200, b"<html>Bad gateway</html>", "not JSON"),
        (200, b"[1, 2, 3]", "unexpected JSON list"),
        (200, b'{"text": "hello", "entities": []}', "no intent name"),
        (200, b'{"text": "hello", "intent": null}', "no intent name"),
        (
            200,
            b'{"text": "hi", "intent": {"name": "greet"}, "entities": [{"entity": "code",'
            b' "start": "x"}]}',
            "malformed parse",
        ),
        (200, b'{"text": "hi", "intent": {"name": "greet"}, "intent_ranking": [1]}', "malformed"),
    ],
)
def test_garbage_answers_fall_back(
    builtin_interpreter: BuiltinInterpreter,
    now: datetime,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: bytes,
    reason: str,
) -> None:
    def garbage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    async def go() -> tuple[ParseResult, ParseResult]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(garbage)) as client:
            rasa = RasaInterpreter("http://rasa.test", client=client, fallback=builtin_interpreter)
            return (
                await rasa.parse("thank you", now=now),
                await builtin_interpreter.parse("thank you", now=now),
            )

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        got, want = run(go())
    assert got == want
    [warning] = warnings(caplog)
    assert reason in warning.getMessage()


def test_request_and_answer_mapping(now: datetime) -> None:
    """Token as `?token=`, Rasa's intent (even nlu_fallback) kept, `time` resolved by us."""
    text = "code 4821 tomorrow at 2"
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "text": text,
                "intent": {"name": FALLBACK_INTENT, "confidence": 0.4},
                "intent_ranking": [
                    {"name": FALLBACK_INTENT, "confidence": 0.4},
                    {"name": "verify_operative", "confidence": 0.35},
                ],
                "entities": [
                    {
                        "entity": "time",
                        "start": 10,
                        "end": 18,
                        "value": "tomorrow",
                        "extractor": "DIETClassifier",
                        "confidence_entity": 0.7,
                    },
                    {
                        "entity": "code",
                        "start": 5,
                        "end": 9,
                        "value": "4821",
                        "extractor": "RegexEntityExtractor",
                    },
                ],
                "text_tokens": [[0, 4], [5, 9], [10, 18], [19, 21], [22, 23]],
            },
        )

    resolved = {"grain": "hour", "value": "2025-12-02T14:00:00+00:00"}

    def times(text_: str, *, now: datetime, tz: str) -> list[FakeTimeMatch]:
        assert (text_, tz) == (text, "Europe/London")
        return [FakeTimeMatch(10, 23, "tomorrow at 2", resolved)]

    async def go() -> ParseResult:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            rasa = RasaInterpreter(
                "http://rasa.test/",
                token="s3cret",
                client=client,
                time_finder=times,
                fallback=MustNotFallBack(),
            )
            return await rasa.parse(text, now=now, message_id="tg-77")

    result = run(go())
    [request] = seen
    assert request.method == "POST"
    assert request.url.path == "/model/parse"
    assert request.url.params["token"] == "s3cret"
    assert json.loads(request.content) == {"text": text, "message_id": "tg-77"}
    assert result.intent.name == FALLBACK_INTENT
    assert [i.name for i in result.intent_ranking] == [FALLBACK_INTENT, "verify_operative"]
    assert [(e.entity, e.value, e.extractor) for e in result.entities] == [
        ("code", "4821", "RegexEntityExtractor"),
        ("time", resolved, TIME_EXTRACTOR),
    ]
    assert result.entities[1].text == "tomorrow at 2"


def test_no_token_means_no_token_param(now: datetime) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=rasa_json("hi", "greet", 0.9))

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            rasa = RasaInterpreter(
                "http://rasa.test", client=client, time_finder=no_times, fallback=MustNotFallBack()
            )
            await rasa.parse("hi", now=now)

    run(go())
    assert "token" not in seen[0].url.params
    assert json.loads(seen[0].content) == {"text": "hi"}


def test_one_warning_per_failure_burst_and_recovery_logged(
    now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    script = iter([503, 503, 200, 200, 502, 200])

    def flaky(request: httpx.Request) -> httpx.Response:
        status = next(script)
        if status != 200:
            return httpx.Response(status, text="busy")
        return httpx.Response(200, json=rasa_json("yes", "affirm", 0.97))

    class Fallback:
        name = "stub"

        async def parse(
            self, text: str, *, now: datetime, tz: str = "Europe/London"
        ) -> ParseResult:
            return ParseResult.from_dict(rasa_json(text, "deny", 0.5))

    async def go() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(flaky)) as client:
            rasa = RasaInterpreter(
                "http://rasa.test", client=client, time_finder=no_times, fallback=Fallback()
            )
            intents = [(await rasa.parse("yes", now=now)).intent.name for _ in range(6)]
            assert (rasa.rasa_answers, rasa.fallback_answers) == (3, 3)
            assert not rasa.degraded
            return intents

    with caplog.at_level(logging.INFO, logger=LOGGER):
        intents = run(go())
    assert intents == ["deny", "deny", "affirm", "affirm", "deny", "affirm"]
    assert ["HTTP 503" in w.getMessage() for w in warnings(caplog)] == [True, False]
    assert "HTTP 502" in warnings(caplog)[1].getMessage()
    recoveries = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(recoveries) == 2
    assert all("answering again" in r.getMessage() for r in recoveries)


def test_aclose_leaves_an_injected_client_open() -> None:
    async def go() -> bool:
        async with httpx.AsyncClient() as client:
            rasa = RasaInterpreter("http://rasa.test", client=client, fallback=MustNotFallBack())
            await rasa.aclose()
            return client.is_closed

    assert run(go()) is False


def test_interpreter_protocol() -> None:
    rasa = RasaInterpreter("http://rasa.test", fallback=MustNotFallBack())
    assert isinstance(rasa, Interpreter)
    assert rasa.name == "rasa"
    run(rasa.aclose())
    with pytest.raises(ValueError, match="timeout"):
        RasaInterpreter("http://rasa.test", timeout=0, fallback=MustNotFallBack())


# --- factory ------------------------------------------------------------------------------------


def factory_kwargs(cache_dir: Path, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "rasa_url": "http://127.0.0.1:5005",
        "rasa_token": "t",
        "timeout": 1.5,
        "cache_dir": cache_dir,
    }
    kwargs.update(overrides)
    return kwargs


@pytest.mark.parametrize("kind", ["spacy", "", "keyword "])
def test_factory_rejects_unknown_kinds_naming_the_variable(nlu_cache_dir: Path, kind: str) -> None:
    with pytest.raises(ValueError, match="DOORSTEP_NLU"):
        build_interpreter(kind, **factory_kwargs(nlu_cache_dir))


@pytest.mark.parametrize("url", [None, "", "   ", "127.0.0.1:5005"])
def test_factory_rasa_needs_a_url(nlu_cache_dir: Path, url: str | None) -> None:
    with pytest.raises(ValueError, match="DOORSTEP_RASA_URL"):
        build_interpreter("rasa", **factory_kwargs(nlu_cache_dir, rasa_url=url))


def test_factory_builds_builtin_and_rasa(nlu_cache_dir: Path) -> None:
    builtin = build_interpreter("builtin", **factory_kwargs(nlu_cache_dir, rasa_url=None))
    assert isinstance(builtin, BuiltinInterpreter)
    rasa = build_interpreter(" Rasa ", **factory_kwargs(nlu_cache_dir, timeout=0.5))
    assert isinstance(rasa, RasaInterpreter)
    assert rasa.name == "rasa"
    run(rasa.aclose())


def test_factory_rasa_falls_back_to_builtin(
    nlu_cache_dir: Path, builtin_interpreter: BuiltinInterpreter, now: datetime
) -> None:
    rasa = build_interpreter(
        "rasa", **factory_kwargs(nlu_cache_dir, rasa_url=closed_loopback_url(), timeout=0.5)
    )

    async def go() -> tuple[ParseResult, ParseResult]:
        try:
            return (
                await rasa.parse("stop texting me", now=now),
                await builtin_interpreter.parse("stop texting me", now=now),
            )
        finally:
            assert isinstance(rasa, RasaInterpreter)
            await rasa.aclose()

    got, want = run(go())
    assert got == want


# --- training -----------------------------------------------------------------------------------


def small_training_set(directory: Path, epochs: int = 5) -> TrainingInputs:
    directory.mkdir(parents=True, exist_ok=True)
    nlu = directory / "nlu.yml"
    nlu.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: greet\n  examples: |\n    - hello\n    - hi\n    - good morning\n"
        "- intent: thank\n  examples: |\n    - thanks\n    - thank you\n    - cheers\n"
    )
    config = directory / "config.yml"
    config.write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: doorstep-test\npipeline:\n"
        "  - name: WhitespaceTokenizer\n  - name: CountVectorsFeaturizer\n"
        f"  - name: DIETClassifier\n    epochs: {epochs}\n    random_seed: 1\n"
        "policies: []\n"
    )
    domain = directory / "domain.yml"
    domain.write_text('version: "3.1"\nintents:\n  - greet\n  - thank\n')
    return TrainingInputs(nlu=nlu, config=config, domain=domain)


def fake_rasa(directory: Path) -> Path:
    exe = directory / "rasa"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_model_name_follows_every_input(tmp_path: Path) -> None:
    inputs = small_training_set(tmp_path)
    first = model_name(inputs)
    assert first.startswith("doorstep-nlu-")
    assert model_name(inputs) == first
    for path in inputs.files():
        original = path.read_bytes()
        path.write_bytes(original + b"\n# changed\n")
        assert model_name(inputs) != first, path.name
        path.write_bytes(original)


def test_missing_rasa_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(
        RasaTrainingError, match=re.escape("Python 3.10 environment; see docs/rasa.md")
    ):
        find_rasa(None, {"PATH": str(tmp_path)})
    with pytest.raises(RasaTrainingError, match="--rasa"):
        find_rasa(str(tmp_path / "nope"), {"PATH": ""})
    with pytest.raises(RasaTrainingError, match="DOORSTEP_RASA_BIN"):
        find_rasa(None, {"PATH": "", "DOORSTEP_RASA_BIN": str(tmp_path / "nope")})
    assert NOT_FOUND_HINT.startswith("install Rasa 3.6")


def test_rasa_found_from_env_then_path(tmp_path: Path) -> None:
    exe = fake_rasa(tmp_path)
    assert find_rasa(None, {"PATH": "", "DOORSTEP_RASA_BIN": str(exe)}) == str(exe)
    assert find_rasa(None, {"PATH": str(tmp_path)}) == str(exe)


def test_training_runs_rasa_once_then_reuses_the_model(tmp_path: Path) -> None:
    inputs = small_training_set(tmp_path / "data")
    calls: list[list[str]] = []

    def runner(cmd: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        calls.append(list(cmd))
        assert env["RASA_TELEMETRY_ENABLED"] == "false"
        out = Path(cmd[cmd.index("--out") + 1])
        name = cmd[cmd.index("--fixed-model-name") + 1]
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.tar.gz").write_bytes(b"model")
        return subprocess.CompletedProcess(list(cmd), 0, "", "")

    env = {"PATH": "", "DOORSTEP_RASA_BIN": str(fake_rasa(tmp_path))}
    out = tmp_path / "models"
    first = train_rasa_model(out_dir=out, inputs=inputs, env=env, runner=runner)
    assert not first.reused
    assert first.path == (out / f"{model_name(inputs)}.tar.gz").resolve()
    assert first.path.read_bytes() == b"model"
    [cmd] = calls
    assert cmd[1:3] == ["train", "nlu"]
    assert cmd[cmd.index("--nlu") + 1] == str(inputs.nlu)
    assert cmd[cmd.index("--config") + 1] == str(inputs.config)
    assert cmd[cmd.index("--domain") + 1] == str(inputs.domain)

    again = train_rasa_model(out_dir=out, inputs=inputs, env=env, runner=runner)
    assert (again.path, again.reused, len(calls)) == (first.path, True, 1)
    forced = train_rasa_model(out_dir=out, inputs=inputs, env=env, runner=runner, force=True)
    assert (forced.reused, len(calls)) == (False, 2)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".rasa")) == [
        first.path.name
    ]


def test_failed_training_reports_rasas_output_and_leaves_no_model(tmp_path: Path) -> None:
    inputs = small_training_set(tmp_path / "data")

    def runner(cmd: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(cmd), 1, "loading...\n", "InvalidConfigException")

    env = {"PATH": "", "DOORSTEP_RASA_BIN": str(fake_rasa(tmp_path))}
    out = tmp_path / "models"
    with pytest.raises(RasaTrainingError, match="InvalidConfigException"):
        train_rasa_model(out_dir=out, inputs=inputs, env=env, runner=runner)
    assert [p for p in out.iterdir() if p.name.endswith(".tar.gz")] == []


def test_missing_training_file_is_reported(tmp_path: Path) -> None:
    inputs = small_training_set(tmp_path)
    inputs.domain.unlink()
    with pytest.raises(RasaTrainingError, match=re.escape("domain.yml")):
        train_rasa_model(out_dir=tmp_path / "m", inputs=inputs, env={"PATH": ""})


@pytest.mark.rasa
@pytest.mark.slow
def test_real_rasa_trains_a_model(tmp_path: Path) -> None:
    rasa_bin = os.environ.get("DOORSTEP_RASA_BIN", "")
    if not rasa_bin:
        need("no Rasa executable: set DOORSTEP_RASA_BIN (written to var/ci/rasa.env)")
    inputs = small_training_set(tmp_path / "data", epochs=2)
    model = train_rasa_model(rasa_bin=rasa_bin, out_dir=tmp_path / "models", inputs=inputs)
    assert not model.reused
    assert model.path.is_file()
    assert model.path.stat().st_size > 1000


FAKE_RASA_SCRIPT = """#!/bin/sh
# Stands in for `rasa train nlu`: writes <out>/<name>.tar.gz like the real one.
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift ;;
    --fixed-model-name) name="$2"; shift ;;
  esac
  shift
done
mkdir -p "$out" && printf 'model' > "$out/$name.tar.gz"
"""


def cli_app() -> typer.Typer:
    from bot.cli.nlu import app

    return app


def test_train_rasa_command_prints_the_model_path(tmp_path: Path) -> None:
    exe = tmp_path / "rasa"
    exe.write_text(FAKE_RASA_SCRIPT)
    exe.chmod(0o755)
    out = tmp_path / "models"
    runner = CliRunner()
    first = runner.invoke(cli_app(), ["train-rasa", "--rasa", str(exe), "--out", str(out)])
    assert first.exit_code == 0, first.output
    [archive] = out.glob("doorstep-nlu-*.tar.gz")
    assert first.stdout.strip() == str(archive.resolve())
    again = runner.invoke(cli_app(), ["train-rasa", "--rasa", str(exe), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "reusing" in again.stderr
    assert again.stdout.strip() == str(archive.resolve())


def test_train_rasa_command_without_rasa_explains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("DOORSTEP_RASA_BIN", raising=False)
    result = CliRunner().invoke(cli_app(), ["train-rasa", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "install Rasa 3.6 in its own Python 3.10 environment; see docs/rasa.md" in result.stderr
