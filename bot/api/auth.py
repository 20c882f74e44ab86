"""API keys: `Authorization: Bearer dsk_...`. Every call is scoped to the key's landlord;
a read key may only read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.api.problems import Problem
from bot.runtime import Runtime
from storage.models import Landlord
from storage.repositories import api_keys
from storage.repositories._batch import by_id

_bearer = HTTPBearer(auto_error=False, description="A landlord's API key: dsk_...")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="doorstep"'}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: one landlord, through one key."""

    landlord_id: int
    landlord_reference: str
    key_id: int
    scope: str

    def require_write(self) -> None:
        if self.scope != "write":
            raise Problem(403, "This API key may only read.")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "Send Authorization: Bearer <API key>.", headers=_CHALLENGE)
    runtime = runtime_of(request)
    with runtime.db.session() as session:
        key = api_keys.authenticate(session, key=credentials.credentials, now=runtime.clock.now())
        if key is None:
            raise Problem(401, "The API key is not valid or was revoked.", headers=_CHALLENGE)
        landlord = by_id(session, Landlord, [key.landlord_id]).get(key.landlord_id)
        assert key.id is not None and landlord is not None
        return Caller(
            landlord_id=key.landlord_id,
            landlord_reference=landlord.reference,
            key_id=key.id,
            scope=key.scope,
        )


def writer(who: Annotated[Caller, Depends(caller)]) -> Caller:
    who.require_write()
    return who


ReadCaller = Annotated[Caller, Depends(caller)]
WriteCaller = Annotated[Caller, Depends(writer)]
