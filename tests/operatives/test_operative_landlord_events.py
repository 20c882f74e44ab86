"""What operatives do reaches the landlord's system as events (issue 14): the access needs
shared in the operative's day list (only what the resident agreed to share, for that
visit, once), no access with its evidence, and a visit done."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.test_telegram_webhook import TelegramWorld, sent_to
from operatives.test_operatives_telegram import (
    OPERATIVE_TG,
    press,
    setup_day,
    today,
    visit_message,
)
from sqlmodel import select

from storage.models import Landlord, LandlordEvent
from storage.repositories import landlord_events


def _events(world: TelegramWorld) -> list[dict[str, Any]]:
    def load(session: Any) -> list[dict[str, Any]]:
        landlord = session.exec(select(Landlord).where(Landlord.reference == "demo")).one()
        rows: list[LandlordEvent] = list(
            landlord_events.page(session, landlord_id=landlord.id, after=0, limit=100)
        )
        return [landlord_events.envelope(r, landlord_reference="demo") for r in rows]

    found: list[dict[str, Any]] = world.query(load)
    return found


def test_needs_shared_in_the_day_list_are_an_event_once(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        setup_day(world)
        await today(world)
        (shared,) = _events(world)
        assert shared["type"] == "access_needs.shared"
        assert shared["data"]["needs"] == [
            {"wording": "I use a wheelchair, please use the side ramp"}
        ]
        assert shared["data"]["appointment"]["operative"].startswith("OP-")
        # Arthur did not consent and Aisha's visit is tomorrow: neither is told.
        text = str(_events(world))
        assert "slow to get to the door" not in text and "big dog" not in text
        await today(world)  # shown again: nothing new shared
        assert len(_events(world)) == 1

    run(scenario)


def test_no_access_is_an_event_with_its_evidence(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        setup_day(world)
        card = visit_message(await today(world), "4821")
        knocked = world.clock.now()
        await press(world, card, "Can't get in")
        offer = sent_to(world.fake, OPERATIVE_TG)[-1]
        world.clock.advance(timedelta(minutes=11))
        await press(world, offer, "Record no access")
        event = _events(world)[-1]
        assert event["type"] == "visit.no_access"
        assert event["data"]["by"] == "operative"
        assert event["data"]["appointment"]["status"] == "no_access"
        assert event["data"]["evidence"] == {
            "cant_get_in_at": knocked.isoformat(),
            "no_access_at": world.clock.now().isoformat(),
            "waited_minutes": 11,
            "resident_answered": False,
        }

    run(scenario)


def test_done_is_a_completed_visit(run: Any) -> None:
    async def scenario(world: TelegramWorld) -> None:
        setup_day(world)
        card = visit_message(await today(world), "4821")
        await press(world, card, "Done")
        event = _events(world)[-1]
        assert event["type"] == "visit.completed"
        assert event["data"]["appointment"]["status"] == "completed"
        assert event["job"]

    run(scenario)
