"""The one interface the service uses to understand text.

Async because the production interpreter is an HTTP call; the built-in ones are
CPU-only and simply return. `now` is the message's own timestamp (timezone-aware) so
"tomorrow" means the day after the resident wrote, not after we processed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from nlu.types import ParseResult

#: The UK zone messages are read in and times are shown in (flows.local_time.LONDON).
DEFAULT_TIMEZONE = "Europe/London"


@runtime_checkable
class Interpreter(Protocol):
    name: str

    async def parse(self, text: str, *, now: datetime, tz: str = DEFAULT_TIMEZONE) -> ParseResult:
        """Understand `text` written at `now`; times are resolved in `tz`."""
        ...
