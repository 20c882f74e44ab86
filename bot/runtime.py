"""Everything a running service holds, built once at start-up and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates

from bot.common.links import PhotoLinkSigner
from bot.common.metrics import Metrics
from bot.inbound.pipeline import Pipeline
from bot.settings import Settings
from flows.clock import Clock
from nlu.interpreter import Interpreter
from storage.db import Database

TEMPLATES_DIR = Path(__file__).parent / "web" / "templates"
STATIC_DIR = Path(__file__).parent / "web" / "static"


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    interpreter: Interpreter
    pipeline: Pipeline
    templates: Jinja2Templates
    links: PhotoLinkSigner
    metrics: Metrics

    def photo_url(self, photo_path: str | None) -> str | None:
        """Where the simulator page can show an operative's photo (simulator mode only)."""
        if not photo_path:
            return None
        return f"{self.settings.public_base_url}/simulator/photos/{Path(photo_path).name}"
