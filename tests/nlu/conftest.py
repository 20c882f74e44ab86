"""Shared NLU fixtures: one fixed message time and one trained built-in interpreter per run.

The built-in model is trained once per session into a temporary cache so tests never read or
write the developer's own cache and stay independent of each other's order.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from nlu.builtin import BuiltinInterpreter

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def now() -> datetime:
    """A Monday morning in winter (GMT), so "tomorrow" and "next week" are unambiguous."""
    return datetime(2025, 12, 1, 9, 30, tzinfo=LONDON)


@pytest.fixture(scope="session")
def nlu_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-cache")


@pytest.fixture(scope="session")
def builtin_interpreter(nlu_cache_dir: Path) -> BuiltinInterpreter:
    return BuiltinInterpreter.load(cache_dir=nlu_cache_dir)
