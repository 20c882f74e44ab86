"""Skip on a developer machine, fail in CI: services CI provides are never optional there."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason} (mandatory in CI)")
    pytest.skip(reason)
