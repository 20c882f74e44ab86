"""Routes of the integration API: records (issue 14)."""

from __future__ import annotations

from bot.api.routing import api_router

router = api_router()
