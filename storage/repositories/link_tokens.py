"""Telegram deep-link tokens (`link_token` rows): found by their hash to be used once."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import LinkToken


def token_for_update(session: Session, *, token_hash: str) -> LinkToken | None:
    """The token with this hash, locked `FOR UPDATE` (a no-op on SQLite) so one deep link
    cannot link twice from two requests at once."""
    return session.exec(
        select(LinkToken).where(LinkToken.token_hash == token_hash).with_for_update()
    ).first()
