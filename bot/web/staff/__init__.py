"""The staff web app under /staff: server-rendered pages for landlord staff.

`router` gathers every page family; `bot/app.py` includes it. Every route except the
login page needs a signed-in session, every POST needs the session's CSRF token, and
changing anything needs the staff or admin role.

Part of the web room: the same imports as bot/web.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.staff import (
    routes_account,
    routes_api_keys,
    routes_auth,
    routes_broadcasts,
    routes_feedback,
    routes_import,
    routes_records,
    routes_tasks,
    routes_unbooked,
    routes_visits,
    routes_webhooks,
)

router = APIRouter(tags=["staff"], include_in_schema=False)
router.include_router(routes_auth.public)
router.include_router(routes_auth.router)
router.include_router(routes_account.enrol_router)
router.include_router(routes_account.router)
router.include_router(routes_api_keys.router)
router.include_router(routes_feedback.router)
router.include_router(routes_visits.router)
router.include_router(routes_tasks.router)
router.include_router(routes_unbooked.router)
router.include_router(routes_records.router)
router.include_router(routes_broadcasts.router)
router.include_router(routes_import.router)
router.include_router(routes_webhooks.router)

__all__ = ["router"]
