"""The Docker image's defaults, checked without a Docker engine: its ENV lines are applied
to an otherwise empty environment and its CMD is run as the image would run it.

Run bare (`docker run doorstep`), the image used to serve the simulator (everyone's
transcripts and a movable clock) on 0.0.0.0 (issue 13, item 10). Now it refuses to start
and says what production needs.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def image_env() -> dict[str, str]:
    """Every variable the Dockerfile's ENV instructions set (`ENV A=1 B=2` form)."""
    env: dict[str, str] = {}
    for line in DOCKERFILE.replace("\\\n", " ").splitlines():
        if line.startswith("ENV "):
            for word in shlex.split(line.removeprefix("ENV ")):
                name, _, value = word.partition("=")
                env[name] = value
    return env


def image_cmd() -> list[str]:
    line = next(x for x in DOCKERFILE.splitlines() if x.startswith("CMD "))
    words: list[str] = json.loads(line.removeprefix("CMD "))
    return words


@pytest.fixture
def bare_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The process environment as in `docker run doorstep`: only the image's ENV."""
    for name in list(os.environ):
        if name.startswith("DOORSTEP_"):
            monkeypatch.delenv(name)
    env = image_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env file
    return env


def test_the_image_is_production_without_the_simulator(bare_image: dict[str, str]) -> None:
    assert bare_image["DOORSTEP_ENVIRONMENT"] == "production"
    assert bare_image["DOORSTEP_SIMULATOR"] == "false"


def test_the_bare_image_refuses_to_start_and_names_what_is_missing(
    bare_image: dict[str, str],
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for needed in ("DOORSTEP_DATABASE_URL", "DOORSTEP_SECRET_KEY", "DOORSTEP_PUBLIC_BASE_URL"):
        assert needed in message
    assert image_cmd()[:2] == ["doorstep", "serve"]
    result = CliRunner().invoke(app, image_cmd()[1:])
    assert result.exit_code == 2
    assert "DOORSTEP_ENVIRONMENT=production needs" in result.output
    assert "simulator:" not in result.output


def test_the_image_starts_with_what_production_needs(
    bare_image: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DOORSTEP_DATABASE_URL", "postgresql+psycopg://doorstep:pw@postgres:5432/doorstep"
    )
    monkeypatch.setenv("DOORSTEP_SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("DOORSTEP_PUBLIC_BASE_URL", "https://repairs.example.org")
    settings = load_settings()
    assert settings.simulator is False
    assert settings.environment == "production"


def test_a_local_demo_brings_the_simulator_back_only_when_asked(
    bare_image: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOORSTEP_SIMULATOR", "true")
    with pytest.raises(SettingsError, match="DOORSTEP_SIMULATOR=false"):
        load_settings()
    monkeypatch.setenv("DOORSTEP_ENVIRONMENT", "development")
    assert load_settings().simulator is True
