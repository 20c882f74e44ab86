"""The messy-conversation set: every conversation in tests/conversations/*.yml, played
through the real app on the demo world, must get the replies and leave the records a
resident would expect. The set is our own, separate from the training data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conversations.runner import (
    HERE,
    Conversation,
    ConversationError,
    Player,
    load_set,
    parse_file,
)
from fastapi.testclient import TestClient

CONVERSATIONS = load_set()
TRAINING = Path(__file__).resolve().parents[2] / "nlu" / "data"


def _played_on() -> list[object]:
    """Every conversation on SQLite; on PostgreSQL too when it checks what was stored
    (`then`), the part that differs between the two. What residents are told comes from
    the same flows on both, and the suite's other tests run each write on both."""
    params: list[object] = []
    for c in CONVERSATIONS:
        params.append(pytest.param("sqlite", c, id=f"sqlite-{c.key}"))
        if c.then:
            params.append(
                pytest.param("postgresql", c, id=f"postgresql-{c.key}", marks=pytest.mark.postgres)
            )
    return params


@pytest.mark.parametrize(("database_url", "conversation"), _played_on(), indirect=["database_url"])
def test_conversation(client: TestClient, conversation: Conversation) -> None:
    result = Player(client, conversation).play()
    assert result.passed, "\n".join(result.failures)


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _training_lines() -> set[str]:
    lines: set[str] = set()
    for path in TRAINING.glob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                example = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line)
                example = example.strip().removeprefix("- ")
                if example:
                    lines.add(_normal(example))
    return lines


def test_the_set_is_separate_from_the_training_data() -> None:
    training = _training_lines()
    assert len(training) > 500  # the training data was read
    copied = [
        (c.key, line)
        for c in CONVERSATIONS
        for line in c.resident_lines()
        if len(line.split()) > 2 and _normal(line) in training
    ]
    assert not copied, f"lines copied from nlu/data: {copied}"


def test_the_set_covers_every_theme_of_the_issue() -> None:
    themes = {c.source for c in CONVERSATIONS}
    assert {"issue_15.yml"} <= themes
    assert len(CONVERSATIONS) >= 60, f"only {len(CONVERSATIONS)} conversations"


def test_a_malformed_conversation_is_refused_with_where(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("- name: x\n  turns:\n    - say: hi\n      expct: [hello]\n")
    with pytest.raises(ConversationError, match=r"bad.yml: x turn 1: unknown keys \['expct'\]"):
        parse_file(bad)


def test_every_file_in_the_set_parses() -> None:
    files = sorted(HERE.glob("*.yml"))
    assert files
    assert sum(len(parse_file(f)) for f in files) == len(CONVERSATIONS)


def test_stored_counts_match_exactly_or_by_bound() -> None:
    from conversations.runner import _matches

    assert _matches({"alert": 2}, {"alert": ">=1"})
    assert not _matches({"alert": 0}, {"alert": ">=1"})
    assert _matches({"damp_mould": 1, "leak": 0}, {"damp_mould": 1})
    assert not _matches({"damp_mould": 1, "leak": 1}, {"damp_mould": 1})  # an extra hazard
    assert _matches(3, "<=3") and not _matches(4, "<=3")
    assert not _matches(True, ">=1")  # yes/no checks are not counts
