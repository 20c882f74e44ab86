"""Where operatives' photos are kept, and the one way to find an operative's photo file.

`Operative.photo_path` holds a bare file name. It is looked up first in the configured
photos folder (`DOORSTEP_PHOTOS_DIR`, shared by every web worker and the scheduler: the
landlord's system puts photos there through the integration API), then in the demo folder
that ships with the package (the demo's five operatives). Only names of a strict shape are
looked up, and only as direct children of those two folders: no paths, no `..`, no
absolute names, and a symlink leading out of a folder is not followed out of it.
"""

from __future__ import annotations

import re
from pathlib import Path

#: The demo operatives' photos, shipped with the package.
PHOTOS_DIR = Path(__file__).resolve().parent / "demo_photos"

#: A photo's file name: letters, digits, '-' and '_', then .png, .jpg or .jpeg.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(?:png|jpg|jpeg)")

_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def resolve_photo(photo_path: str | None, photos_dir: Path | None = None) -> Path | None:
    """The operative's photo file on disk, or None: a bare name in `photos_dir`, else in the
    demo folder; anything else (a path, '..', a name of another shape, no such file) None."""
    if not photo_path or not NAME_PATTERN.fullmatch(photo_path):
        return None
    for folder in (photos_dir, PHOTOS_DIR):
        if folder is None:
            continue
        path = folder / photo_path
        try:
            if path.is_file() and path.resolve().parent == folder.resolve():
                return path
        except OSError:
            continue
    return None


def media_type(path: Path) -> str:
    """image/png or image/jpeg, from the file's suffix (only those are ever resolved)."""
    return _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
