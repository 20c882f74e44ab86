"""`doorstep nlu parse|evaluate` as someone at a terminal would use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import nlu as cli_nlu
from nlu.builtin import BuiltinInterpreter
from nlu.interpreter import Interpreter

runner = CliRunner()

SMALL_TEST_FILE = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
- intent: verify_operative
  examples: |
    - check code [4821](code)
"""


@pytest.fixture(autouse=True)
def use_session_model(
    monkeypatch: pytest.MonkeyPatch, builtin_interpreter: BuiltinInterpreter
) -> list[str]:
    """Serve the session's trained model so the CLI never touches ./var/cache."""
    asked: list[str] = []

    def interpreter_for(kind: str) -> Interpreter:
        asked.append(kind)
        return builtin_interpreter

    monkeypatch.setattr(cli_nlu, "_interpreter_for", interpreter_for)
    monkeypatch.delenv("DOORSTEP_NLU", raising=False)
    return asked


def test_parse_prints_one_rasa_shaped_object() -> None:
    result = runner.invoke(
        cli_nlu.app, ["parse", "--now", "2025-12-01T09:30:00+00:00", "check code 4821"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"text", "intent", "intent_ranking", "entities"}
    assert data["text"] == "check code 4821"
    assert data["intent"]["name"] == "verify_operative"
    assert data["intent_ranking"][0] == data["intent"]
    (code,) = [e for e in data["entities"] if e["entity"] == "code"]
    assert (code["value"], code["start"], code["end"]) == ("4821", 11, 15)
    assert {"extractor", "confidence"} <= set(code)


def test_parse_resolves_times_against_now() -> None:
    result = runner.invoke(
        cli_nlu.app, ["parse", "--now", "2025-12-01T09:30:00", "can you come tomorrow morning"]
    )
    assert result.exit_code == 0, result.output
    times = [e for e in json.loads(result.stdout)["entities"] if e["entity"] == "time"]
    assert times
    assert "2025-12-02" in json.dumps(times[0]["value"])


def test_jsonl_keeps_input_order() -> None:
    lines = ["hello", "im deaf", "check code 4821", "5 stars"]
    result = runner.invoke(
        cli_nlu.app,
        ["parse", "--jsonl", "--now", "2025-12-01T09:30:00+00:00"],
        input="\n".join(lines) + "\n",
    )
    assert result.exit_code == 0, result.output
    parsed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["text"] for p in parsed] == lines
    assert [p["intent"]["name"] for p in parsed] == [
        "greet",
        "inform_access_needs",
        "verify_operative",
        "give_feedback",
    ]


def test_interpreter_choice_is_passed_on(use_session_model: list[str]) -> None:
    runner.invoke(cli_nlu.app, ["parse", "--interpreter", "builtin", "hi"])
    assert use_session_model == ["builtin"]


def test_evaluate_json_has_accuracy_and_macro_f1(tmp_path: Path) -> None:
    path = tmp_path / "small.yml"
    path.write_text(SMALL_TEST_FILE, encoding="utf-8")
    result = runner.invoke(cli_nlu.app, ["evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    intent = json.loads(result.stdout)["intent"]
    assert intent["accuracy"] == 1.0
    assert intent["macro_f1"] == 1.0
    assert set(intent["per_intent"]) == {"greet", "verify_operative"}


def test_evaluate_table_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "small.yml"
    path.write_text(SMALL_TEST_FILE, encoding="utf-8")
    result = runner.invoke(cli_nlu.app, ["evaluate", str(path)])
    assert result.exit_code == 0, result.output
    assert "intent accuracy: 1.000" in result.stdout
    assert "verify_operative" in result.stdout


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["evaluate", "{dir}/missing.yml"], None, "no such file"),
        (["evaluate", "{dir}/bad.yml"], "nlu: [unclosed", "not valid YAML"),
        (["parse", "--now", "next tuesday", "hi"], None, "--now must be an ISO 8601"),
        (["parse", "--interpreter", "gpt", "hi"], None, "unknown interpreter"),
        (["parse"], None, "give either TEXT or --jsonl"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, args: list[str], content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "bad.yml").write_text(content, encoding="utf-8")
    result = runner.invoke(cli_nlu.app, [a.format(dir=tmp_path) for a in args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
