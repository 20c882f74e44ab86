"""What flows say: replies and options, channel-neutral values (what they do: flows/actions.py)."""

from __future__ import annotations

from dataclasses import dataclass


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
