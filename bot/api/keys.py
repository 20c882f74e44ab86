"""Who am I: the calling key and its landlord, for a landlord's developer to check a key."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.api.auth import ReadCaller
from bot.api.routing import api_router

router = api_router()


class Me(BaseModel):
    landlord: str = Field(examples=["demo"])
    scope: str = Field(examples=["write"])


@router.get("/me", response_model=Me, tags=["keys"], summary="The calling key's landlord")
def me(who: ReadCaller) -> Me:
    return Me(landlord=who.landlord_reference, scope=who.scope)
