"""The first flow as a transcript: a resident says this, the bot answers that."""

from __future__ import annotations

from simphone import Phone


def test_greeting_then_menu_choice(phone: Phone) -> None:
    phone.say("hiya")
    greeting = phone.pop()
    assert greeting["text"].startswith("Hello Margaret")
    assert "RH-10421 needs a visit" in greeting["text"]  # her open repair, by reference
    phone.say("Book a repair visit", option_key="1")
    assert phone.pop_text().startswith("Before we book: we have noted")


def test_a_message_that_is_not_understood_gets_one_helpful_line(phone: Phone) -> None:
    phone.say("qwzx blorp")
    reply = phone.pop()
    assert reply["text"].startswith("Margaret,")
    assert "reply with a number or tell me in your own words" in reply["text"].lower()
    phone.say("zzkx qqq")
    assert phone.pop()["text"] == reply["text"]  # the same one line, never a loop
    assert len(reply["options"]) == 4


def test_resident_with_several_jobs_hears_how_many(client, demo_db) -> None:
    from datetime import UTC, datetime

    from sqlmodel import select

    from storage.models import RepairJob, Resident

    with demo_db.session() as session:
        resident = session.exec(select(Resident).where(Resident.name == "David Price")).one()
        session.add(
            RepairJob(
                landlord_id=resident.landlord_id,
                reference="RH-99999",
                property_id=resident.property_id,
                resident_id=resident.id,
                description="Broken window latch",
                created_at=datetime(2026, 11, 29, tzinfo=UTC),
            )
        )
    david = Phone(client, "+447400123457")
    assert "2 of your repairs need a visit." in david.say("hello")[0]["text"]
