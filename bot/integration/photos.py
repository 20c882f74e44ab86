"""Operatives' photos sent by the landlord's system (issue 14): checked, then stored by
content in the configured photos folder (settings.photos_dir), where bot.common.photos
finds them for Telegram, the visit page and the simulator.

A photo is base64 (standard alphabet, an optional `data:image/...;base64,` prefix) of a
JPEG or PNG of at most `MAX_BYTES` decoded. Its file name is `op-<sha256 hex[:32]>.jpg` or
`.png`: the same photo is the same file, so sending it again writes nothing. A file is
written to a temporary name and renamed into place, so a reader never sees half a photo,
and it is written before the database names it; a transaction rolled back afterwards
leaves an unnamed file behind, which is harmless.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic_core import PydanticCustomError

#: The most bytes a photo may have, decoded (500 KB).
MAX_BYTES = 500 * 1024
#: The longest base64 text that can decode to MAX_BYTES (checked before decoding).
_MAX_TEXT = 4 * ((MAX_BYTES + 2) // 3)

_DATA_URL = re.compile(r"data:image/[A-Za-z0-9.+-]{1,40};base64,")
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"


class PhotoError(ValueError):
    """Not a photo we take; the message is the reason, for the landlord's developer."""


@dataclass(frozen=True, slots=True)
class Photo:
    data: bytes
    #: "png" or "jpg"
    extension: str

    @property
    def name(self) -> str:
        """The content-addressed file name: op-<sha256 hex[:32]>.<extension>."""
        return f"op-{hashlib.sha256(self.data).hexdigest()[:32]}.{self.extension}"


def decode(text: str) -> Photo:
    """The photo in `text`, or PhotoError saying why not."""
    body = text.strip()
    prefix = _DATA_URL.match(body)
    if prefix is not None:
        body = body[prefix.end() :]
    if len(body) > _MAX_TEXT:
        raise PhotoError(f"larger than {MAX_BYTES // 1024} KB")
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise PhotoError("not base64 (standard alphabet, with = padding)") from None
    if len(data) > MAX_BYTES:
        raise PhotoError(f"larger than {MAX_BYTES // 1024} KB")
    return Photo(data, _kind(data))


def _kind(data: bytes) -> str:
    """png or jpg by the file's own first bytes (a PNG must begin with its IHDR chunk)."""
    if data.startswith(_PNG) and data[12:16] == b"IHDR" and len(data) >= 33:
        return "png"
    if data.startswith(_JPEG) and len(data) >= 4:
        return "jpg"
    raise PhotoError("not a JPEG or PNG image")


def photo_field(text: str) -> str:
    """The `photo` field's validator: its base64 without a data: prefix, once `decode` has
    checked it; else a validation error whose message is the reason alone."""
    try:
        decode(text)
    except PhotoError as exc:
        raise PydanticCustomError("invalid_photo", str(exc)) from None
    body = text.strip()
    prefix = _DATA_URL.match(body)
    return body[prefix.end() :] if prefix is not None else body


def store(photos_dir: Path, photo: Photo) -> str:
    """Write the photo into `photos_dir` unless it is there already; its file name.

    OSError if the folder cannot be written."""
    name = photo.name
    path = photos_dir / name
    if path.is_file() and path.stat().st_size == len(photo.data):
        return name
    photos_dir.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=photos_dir)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(photo.data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return name
