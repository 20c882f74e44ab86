"""Where operatives' photos are kept: the demo's five ship with the package."""

from __future__ import annotations

from pathlib import Path

PHOTOS_DIR = Path(__file__).resolve().parent / "demo_photos"
