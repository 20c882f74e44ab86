"""Cross-site request forgery: every POST must carry the session's own token.

The token is an HMAC of the session cookie's random token under the app's secret key
(`auth.csrf_for`) and is repeated in a hidden form field (`csrf_token`). A page on another
site can make a browser send the cookie, but cannot read it to make the form token.
The check is a router-wide dependency, so a new POST route cannot forget it. SameSite=Lax
cookies are a second, independent defence.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request
from starlette.formparsers import MultiPartException

from bot.web.staff.deps import CurrentUser, current_user, signed_in_user

FIELD = "csrf_token"
FORBIDDEN = "This form has expired or did not come from Doorstep. Go back, reload and try again."


def check_token(expected: str, submitted: object) -> None:
    if not isinstance(submitted, str) or not submitted or not expected:
        raise HTTPException(status_code=403, detail=FORBIDDEN)
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise HTTPException(status_code=403, detail=FORBIDDEN)


async def submitted_token(request: Request) -> object:
    try:
        form = await request.form()
    except (MultiPartException, ValueError, KeyError) as exc:
        raise HTTPException(status_code=400, detail="The form could not be read.") from exc
    return form.get(FIELD)


async def protect(request: Request, user: CurrentUser = Depends(current_user)) -> None:
    """Router dependency: GET and HEAD pass, anything else needs the token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    check_token(user.csrf, await submitted_token(request))


async def protect_signed_in(request: Request, user: CurrentUser = Depends(signed_in_user)) -> None:
    """The same check for the two-factor set-up pages (open before set-up is done)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    check_token(user.csrf, await submitted_token(request))
