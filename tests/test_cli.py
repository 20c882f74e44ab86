"""The `doorstep` command as an operator uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from storage.migrate import head_revision

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("DOORSTEP_NLU", "keyword")
    monkeypatch.chdir(tmp_path)
    return db


def test_upgrade_then_demo_then_chat(env: Path) -> None:
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at revision {head_revision()}" in upgraded.output
    loaded = runner.invoke(app, ["demo", "load"])
    assert "demo data loaded" in loaded.output
    again = runner.invoke(app, ["demo", "load"])
    assert "already has data" in again.output
    chat = runner.invoke(app, ["chat", "--phone", "07400 123456"], input="hello\n")
    assert chat.exit_code == 0, chat.output
    assert "bot> Hello Margaret" in chat.output
    assert "1  Book a repair visit" in chat.output


def test_demo_refuses_an_unmigrated_database(env: Path) -> None:
    result = runner.invoke(app, ["demo", "load"])
    assert result.exit_code == 2
    assert "doorstep db upgrade" in result.output


def test_bad_configuration_is_one_clear_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", "oracle://nope")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "DOORSTEP_DATABASE_URL" in result.output
    assert "Traceback" not in result.output


def test_chat_refuses_a_number_that_is_not_a_uk_mobile(env: Path) -> None:
    result = runner.invoke(app, ["chat", "--phone", "0113 496 0000"])
    assert result.exit_code == 2
    assert "not a UK mobile" in result.output
