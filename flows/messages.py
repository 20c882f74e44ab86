"""What flows say and do: replies, options and domain actions, all channel-neutral values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Option:
    """A choice the resident can make by number on SMS or by button on Telegram."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    #: A picture the channel may show (Telegram photo); SMS gets `photo_link` in the text.
    photo_path: str | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A domain change the flow asks for; the service applies it in the same transaction."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
