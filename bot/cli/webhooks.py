"""`doorstep webhooks ...` (issue 14): a landlord's webhook subscriptions, and resending
a delivery that died.

    doorstep webhooks add --landlord REF --url URL [--events a,b]   (prints the secret once)
    doorstep webhooks list [--landlord REF]
    doorstep webhooks remove ID
    doorstep webhooks dead [--landlord REF]
    doorstep webhooks resend DELIVERY_ID
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from bot.cli.landlords import _audit, _fail, _now, _session
from bot.outbound.webhooks import SubscriptionRefused, subscribe
from storage.models import Landlord
from storage.repositories import landlords as landlord_rows
from storage.repositories import webhooks as webhook_rows
from storage.repositories._batch import by_id

app = typer.Typer(help="Webhook subscriptions: events sent to a landlord's system.")


def _landlord_id(session: Session, reference: str) -> int:
    row = landlord_rows.by_reference(session, reference=reference)
    if row is None or row.id is None:
        raise _fail(f"no landlord {reference!r}: see `doorstep landlords list`")
    return row.id


@app.command("add")
def add(
    landlord: Annotated[str, typer.Option(help="The landlord's reference")],
    url: Annotated[str, typer.Option(help="Where to POST events (https)")],
    events: Annotated[
        str, typer.Option(help="Comma-separated event types; default: every type")
    ] = "",
) -> None:
    """Subscribe a landlord's receiver; prints the signing secret once."""
    with _session() as session:
        landlord_id = _landlord_id(session, landlord)
        try:
            new = subscribe(
                session,
                landlord_id=landlord_id,
                url=url,
                kinds=events.split(","),
                now=_now(),
            )
        except SubscriptionRefused as exc:
            raise _fail(str(exc)) from None
        _audit(session, "webhook.subscribed", "webhook_subscription", new.row.id, landlord=landlord)
        kinds = ", ".join(new.row.events) or "every event"
    typer.echo(f"webhook {new.row.id} for {landlord}: {kinds}")
    typer.echo("signing secret (shown once; the receiver checks Doorstep-Signature with it):")
    typer.echo(new.secret)


@app.command("list")
def list_subscriptions(
    landlord: Annotated[str | None, typer.Option(help="Only this landlord's")] = None,
) -> None:
    """Live subscriptions: id, landlord, URL, event types, deliveries by status. Never the
    secret."""
    with _session() as session:
        landlord_id = None if landlord is None else _landlord_id(session, landlord)
        names: dict[int, str] = {}
        after = 0
        while page := webhook_rows.subscriptions(
            session, landlord_id=landlord_id, after_id=after, limit=200
        ):
            for sub in page:
                assert sub.id is not None
                if sub.landlord_id not in names:
                    row = by_id(session, Landlord, [sub.landlord_id]).get(sub.landlord_id)
                    names[sub.landlord_id] = row.reference if row else "?"
                counts = webhook_rows.counts(session, subscription_id=sub.id)
                tally = " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none yet"
                typer.echo(
                    f"{sub.id}\t{names[sub.landlord_id]}\t{sub.url}\t"
                    f"{','.join(sub.events) or 'all'}\t{tally}"
                )
            assert page[-1].id is not None
            after = page[-1].id


@app.command("remove")
def remove(
    subscription_id: Annotated[int, typer.Argument(help="The subscription's id (list)")],
) -> None:
    """Stop a subscription; what was waiting for it is not sent."""
    with _session() as session:
        if not webhook_rows.remove_subscription(
            session, subscription_id=subscription_id, now=_now()
        ):
            raise _fail(f"no live webhook {subscription_id}")
        _audit(session, "webhook.removed", "webhook_subscription", subscription_id)
    typer.echo(f"removed webhook {subscription_id}")


@app.command("dead")
def dead(
    landlord: Annotated[str | None, typer.Option(help="Only this landlord's")] = None,
) -> None:
    """Deliveries that were given up on (newest first): id, event, job, last error."""
    with _session() as session:
        landlord_id = None if landlord is None else _landlord_id(session, landlord)
        before: int | None = None
        while page := webhook_rows.dead_letters(
            session, before_id=before, limit=200, landlord_id=landlord_id
        ):
            for row in page:
                d = row.delivery
                typer.echo(
                    f"{d.id}\t{row.landlord_reference}\twebhook {d.subscription_id}\t"
                    f"{row.event_kind}\t{row.job_reference or '-'}\tattempts {d.attempts}\t"
                    f"{d.last_error or ''}"
                )
            before = page[-1].delivery.id


@app.command("resend")
def resend(
    delivery_id: Annotated[int, typer.Argument(help="The delivery's id (dead)")],
) -> None:
    """Send a delivery again (a dead one, or one delivered that the receiver lost)."""
    with _session() as session:
        if not webhook_rows.resend(session, delivery_id=delivery_id, now=_now()):
            raise _fail(
                f"delivery {delivery_id} cannot be resent: no such delivery, already queued, "
                "or its webhook was removed"
            )
        _audit(session, "webhook.resent", "webhook_delivery", delivery_id)
    typer.echo(f"delivery {delivery_id} queued again")
