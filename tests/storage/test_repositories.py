from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text

from storage.db import Database
from storage.enums import Channel, Direction
from storage.models import Message
from storage.repositories.conversations import lock_conversation
from storage.repositories.people import resident_by_address
from storage.repositories.transcript import record_inbound, transcript, unprocessed_inbound

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_an_inbound_message_is_stored_once_per_channel_id(db: Database) -> None:
    with db.session() as session:
        first = record_inbound(
            session,
            channel=Channel.SMS,
            address="+447400123456",
            text="hi",
            channel_message_id="SM1",
            at=NOW,
        )
    with db.session() as session:
        again = record_inbound(
            session,
            channel=Channel.SMS,
            address="+447400123456",
            text="hi",
            channel_message_id="SM1",
            at=NOW,
        )
        other_channel = record_inbound(
            session,
            channel=Channel.TELEGRAM,
            address="42",
            text="hi",
            channel_message_id="SM1",
            at=NOW,
        )
    assert first is not None
    assert again is None
    assert other_channel is not None
    with db.session() as session:
        stored = transcript(session, channel=Channel.SMS, address="+447400123456")
        pending = unprocessed_inbound(session)
    assert [m.text for m in stored] == ["hi"]
    assert stored[0].direction == Direction.INBOUND
    assert {m.id for m in pending} == {first, other_channel}


def test_times_come_back_aware_and_in_utc(db: Database) -> None:
    written_in_bst = datetime(2026, 7, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    with db.session() as session:
        message_id = record_inbound(
            session,
            channel=Channel.SMS,
            address="+447400123456",
            text="x",
            channel_message_id="SM2",
            at=written_in_bst,
        )
    with db.session() as session:
        stored = session.get(Message, message_id)
        assert stored is not None
        assert stored.created_at == written_in_bst
        assert stored.created_at.utcoffset() == timedelta(0)


def test_enums_are_stored_as_readable_words(db: Database) -> None:
    with db.session() as session:
        record_inbound(
            session,
            channel=Channel.TELEGRAM,
            address="42",
            text="x",
            channel_message_id="u1",
            at=NOW,
        )
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT channel, direction FROM messages")).one()
    assert tuple(row) == ("telegram", "in")


def test_one_conversation_per_address(db: Database) -> None:
    with db.session() as session:
        first = lock_conversation(
            session, channel=Channel.SMS, address="+447400123456", resident_id=None, now=NOW
        )
        first.state = "asking"
    with db.session() as session:
        again = lock_conversation(
            session, channel=Channel.SMS, address="+447400123456", resident_id=None, now=NOW
        )
    assert again.id == first.id
    assert again.state == "asking"


def test_residents_are_found_by_their_channel_address(demo_db: Database) -> None:
    with demo_db.session() as session:
        by_sms = resident_by_address(session, channel=Channel.SMS, address="+447400123456")
        by_telegram = resident_by_address(session, channel=Channel.TELEGRAM, address="700000001")
        nobody = resident_by_address(session, channel=Channel.SMS, address="+447400999999")
        junk = resident_by_address(session, channel=Channel.TELEGRAM, address="not-a-number")
    assert by_sms is not None and by_sms.name == "Margaret Okafor"
    assert by_telegram is not None and by_telegram.name == "Gareth Hughes"
    assert nobody is None
    assert junk is None
