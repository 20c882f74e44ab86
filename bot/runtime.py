"""Everything a running service holds, built once at start-up and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates

from bot.common.links import PhotoLinkSigner
from bot.common.metrics import Metrics
from bot.common.photos import resolve_photo
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
        """Where the simulator page can show an operative's photo (simulator mode only);
        None when the photo does not resolve (bot.common.photos.resolve_photo)."""
        path = resolve_photo(photo_path, self.settings.photos_dir)
        if path is None:
            return None
        return f"{self.settings.public_base_url}/simulator/photos/{path.name}"
