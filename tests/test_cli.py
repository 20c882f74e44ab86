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


def test_demo_reset_empties_a_demo_database_and_loads_the_demo_again(env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["demo", "load"]).exit_code == 0
    chat = runner.invoke(app, ["chat", "--phone", "07400 123456"], input="i want to complain\n")
    assert chat.exit_code == 0, chat.output
    asked = runner.invoke(app, ["demo", "reset"], input="n\n")
    assert asked.exit_code == 1 and "nothing changed" in asked.output
    assert _messages(env) > 0

    reset = runner.invoke(app, ["demo", "reset", "--yes"])
    assert reset.exit_code == 0, reset.output
    assert "demo data loaded" in reset.output
    assert _messages(env) == _messages_in_a_fresh_demo(env.parent)
    hello = runner.invoke(app, ["chat", "--phone", "07400 123456"], input="hello\n")
    assert "bot> Hello Margaret" in hello.output


def test_demo_reset_works_on_an_empty_database(env: Path) -> None:
    reset = runner.invoke(app, ["demo", "reset", "--yes"])
    assert reset.exit_code == 0, reset.output
    hello = runner.invoke(app, ["chat", "--phone", "07400 123456"], input="hello\n")
    assert "bot> Hello Margaret" in hello.output


def test_demo_reset_never_empties_a_real_landlords_database(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    made = runner.invoke(
        app,
        [
            "landlords",
            "create",
            "riverside",
            "--name",
            "Riverside Homes",
            "--phone",
            "0300 555 0140",
            "--emergency-phone",
            "0300 555 0199",
        ],
    )
    assert made.exit_code == 0, made.output
    refused = runner.invoke(app, ["demo", "reset", "--yes"])
    assert refused.exit_code == 2
    assert "other than the demo" in refused.output
    monkeypatch.setenv("DOORSTEP_ENVIRONMENT", "production")
    assert runner.invoke(app, ["demo", "reset", "--yes"]).exit_code == 2


def _messages(db_path: Path) -> int:
    import sqlite3

    with sqlite3.connect(db_path) as connection:
        return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])


def _messages_in_a_fresh_demo(folder: Path) -> int:
    """What the demo's own transcript holds, loaded into a database of its own."""
    from datetime import UTC, datetime

    from bot.cli.demo import load_demo
    from storage.db import Database
    from storage.migrate import upgrade

    url = f"sqlite:///{folder / 'fresh.sqlite3'}"
    upgrade(url)
    db = Database(url)
    try:
        load_demo(db, now=datetime.now(UTC))
    finally:
        db.dispose()
    return _messages(folder / "fresh.sqlite3")
