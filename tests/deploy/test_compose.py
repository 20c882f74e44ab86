"""What can be checked of the deployment without a Docker engine: the compose file parses,
names images and commands that exist, and the example env file names real settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from bot.cli.main import app
from bot.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _doorstep_commands() -> set[tuple[str, ...]]:
    """Every command path the `doorstep` CLI really has, e.g. ("db", "upgrade")."""
    root = get_command(app)
    found: set[tuple[str, ...]] = set()

    def walk(command: object, path: tuple[str, ...]) -> None:
        sub = getattr(command, "commands", None)
        if not sub:
            found.add(path)
            return
        for name, child in sub.items():
            walk(child, (*path, name))

    walk(root, ())
    return found


def test_the_deployment_has_every_part() -> None:
    assert {"postgres", "migrate", "rasa", "rasa-train", "scheduler"} <= set(SERVICES)
    web = [name for name, s in SERVICES.items() if "serve" in s.get("command", [])]
    assert len(web) >= 2  # two or more stateless web workers
    for name in (*web, "postgres", "rasa"):
        assert "healthcheck" in SERVICES[name], name
    for name in (*web, "postgres", "rasa", "scheduler"):
        assert SERVICES[name].get("restart") == "unless-stopped", name


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_doorstep_command_exists(name: str) -> None:
    command = SERVICES[name].get("command")
    if not command or command[0] != "doorstep":
        return
    words = tuple(w for w in command[1:] if not w.startswith("-"))
    known = _doorstep_commands()
    assert any(words[: len(path)] == path for path in known), (name, words)


def test_images_are_ours_or_pinned() -> None:
    for name, service in SERVICES.items():
        image = service.get("image", "")
        if image.startswith("doorstep"):
            assert (ROOT / "Dockerfile").is_file()
            continue
        assert ":" in image and not image.endswith(":latest"), (name, image)
    assert SERVICES["rasa"]["image"] == "rasa/rasa:3.6.21-full"


def test_rasa_trains_from_our_files() -> None:
    command = SERVICES["rasa-train"]["command"]
    for path in ("/app/nlu/data/nlu.yml", "/app/nlu/rasa/config.yml"):
        assert path in command
        assert (ROOT / path.removeprefix("/app/")).is_file()


def test_example_env_names_real_settings() -> None:
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith(ENV_PREFIX):
            assert line.split("=", 1)[0] in fields, line
    compose_vars = SERVICES["web1"]["environment"]
    assert set(compose_vars) <= fields
