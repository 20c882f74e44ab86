"""The simulator channel's JSON API, end to end through the real pipeline and database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import col, select

from simphone import Phone
from storage.db import Database
from storage.enums import Channel, Direction
from storage.models import Message, OutboxMessage


def test_health_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in {"sqlite", "postgresql"}


def test_residents_list_shows_names_phones_and_open_jobs(client: TestClient) -> None:
    residents = client.get("/simulator/api/residents").json()
    assert len(residents) == 8
    margaret = next(r for r in residents if r["name"] == "Margaret Okafor")
    assert margaret["phone"] == "+447400123456"
    assert margaret["open_jobs"] == [
        {"reference": "RH-10421", "description": "Kitchen tap dripping constantly"}
    ]
    assert any(r["sms_opted_out"] for r in residents)
    assert any(r["telegram_linked"] for r in residents)


def test_a_known_resident_is_greeted_by_name_with_options(phone: Phone) -> None:
    replies = phone.say("hello")
    assert len(replies) == 1
    assert replies[0]["text"].startswith("Hello Margaret")
    assert "RH-10421" in replies[0]["text"]
    labels = [o["label"] for o in replies[0]["options"]]
    assert "Book a repair visit" in labels
    assert [o["key"] for o in replies[0]["options"]] == ["1", "2", "3", "4"]


def test_an_unknown_number_learns_nothing_about_anyone(client: TestClient) -> None:
    stranger = Phone(client, "07400 999999")
    text = stranger.say("hello, when is Margaret's visit? RH-10421")[0]["text"]
    assert "0300 555 0140" in text  # the landlord's number
    for secret in ("Margaret", "Okafor", "RH-10421", "Kitchen", "tap", "Sam"):
        assert secret not in text
    assert stranger.say("hello")[0]["text"] == text


def test_every_message_in_and_out_is_in_the_transcript(
    phone: Phone, client: TestClient, demo_db: Database
) -> None:
    phone.say("hello")
    with demo_db.session() as session:
        rows = session.exec(
            select(Message).where(Message.channel == Channel.SIMULATOR).order_by(col(Message.id))
        ).all()
    assert [r.direction for r in rows] == [Direction.INBOUND, Direction.OUTBOUND]
    inbound, outbound = rows
    assert inbound.processed_at is not None
    assert inbound.intent == "greet"
    assert inbound.conversation_id == outbound.conversation_id is not None
    assert inbound.resident_id == outbound.resident_id is not None
    assert outbound.options[0] == {"key": "1", "label": "Book a repair visit"}
    transcript = client.get("/simulator/api/transcript", params={"phone": phone.number}).json()
    assert [t["direction"] for t in transcript] == ["in", "out"]


def test_a_repeated_message_id_is_processed_once(client: TestClient) -> None:
    body = {"phone": "+447400123457", "text": "hello", "message_id": "retry-1"}
    first = client.post("/simulator/api/messages", json=body).json()
    second = client.post("/simulator/api/messages", json=body).json()
    assert first["duplicate"] is False
    assert first["replies"][0]["text"].startswith("Hello David")
    assert second == {"replies": [], "duplicate": True}


def test_bad_input_gets_a_clear_error_not_a_crash(client: TestClient) -> None:
    not_mobile = client.post(
        "/simulator/api/messages", json={"phone": "0113 496 0000", "text": "hi"}
    )
    assert not_mobile.status_code == 422
    assert "not a UK mobile" in not_mobile.text
    huge = client.post(
        "/simulator/api/messages", json={"phone": "+447400123456", "text": "x" * 10_001}
    )
    assert huge.status_code == 422
    missing = client.post("/simulator/api/messages", json={"text": "hi"})
    assert missing.status_code == 422


def test_long_and_unusual_messages_are_answered(phone: Phone) -> None:
    for text in ("a" * 10_000, "hello \U0001f600 \u202e\x07 <script>alert(1)</script>", "Siân"):
        replies = phone.say(text)
        assert replies
        assert replies[0]["text"]


def test_the_clock_moves_only_as_told(client: TestClient) -> None:
    start = client.get("/simulator/api/clock").json()["now"]
    assert start.startswith("2026-11-30T09:00:00")
    moved = client.post("/simulator/api/clock", json={"advance_minutes": 90}).json()["now"]
    assert moved.startswith("2026-11-30T10:30:00")
    when = client.post("/simulator/api/clock", json={"set": "2026-12-24T08:00:00+00:00"})
    assert when.json()["now"].startswith("2026-12-24T08:00:00")
    naive = client.post("/simulator/api/clock", json={"set": "2026-12-24T08:00:00"})
    assert naive.status_code == 422
    both = client.post(
        "/simulator/api/clock", json={"set": "2026-12-24T08:00:00Z", "advance_minutes": 1}
    )
    assert both.status_code == 422


def test_messages_carry_the_simulated_time(
    phone: Phone, client: TestClient, demo_db: Database
) -> None:
    client.post("/simulator/api/clock", json={"set": "2026-12-02T14:15:00+00:00"})
    phone.say("hi")
    with demo_db.session() as session:
        inbound = session.exec(
            select(Message).where(
                Message.direction == Direction.INBOUND, Message.channel == Channel.SIMULATOR
            )
        ).one()
    assert inbound.created_at.isoformat() == "2026-12-02T14:15:00+00:00"


def test_outbox_lists_only_that_residents_messages(client: TestClient) -> None:
    assert client.get("/simulator/api/outbox", params={"phone": "+447400123456"}).json() == []
    bad = client.get("/simulator/api/outbox", params={"phone": "not a phone"})
    assert bad.status_code == 422


def test_the_page_is_served(client: TestClient) -> None:
    page = client.get("/simulator")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "Simulator" in page.text


def test_the_code_of_conduct_page_is_public(client: TestClient) -> None:
    page = client.get("/code-of-conduct")
    assert page.status_code == 200
    assert "Riverside Homes" in page.text
    assert "ask before using your toilet" in page.text


def test_metrics_are_exposed_for_prometheus(phone: Phone, client: TestClient) -> None:
    phone.say("hello")
    body = client.get("/metrics")
    assert body.status_code == 200
    assert body.headers["content-type"].startswith("text/plain")
    text = body.text
    assert 'doorstep_messages_in_total{channel="simulator",outcome="stored"} 1.0' in text
    assert 'doorstep_messages_in_total{channel="simulator",outcome="processed"} 1.0' in text
    assert 'doorstep_outbox_messages{status="pending"}' in text
    assert "doorstep_nlu_parse_seconds_count" in text


def test_a_message_stored_but_never_answered_is_answered_at_start(
    demo_db: Database, clock: object, interpreter: object
) -> None:
    """The process died between storing a message and answering it: nothing is lost."""
    import asyncio

    from bot.app import build_runtime
    from bot.common.events import InboundMessage
    from bot.settings import load_settings

    runtime = build_runtime(
        load_settings(database_url=demo_db.url, scheduler_in_process=False),
        clock=clock,  # type: ignore[arg-type]
        interpreter=interpreter,  # type: ignore[arg-type]
    )
    inbound = InboundMessage(
        Channel.SMS,
        "+447400123456",
        "hello",
        "SMcrash1",
        clock.now(),  # type: ignore[attr-defined]
    )
    try:
        assert asyncio.run(runtime.pipeline.store(inbound)) is not None
        assert asyncio.run(runtime.pipeline.process_pending()) == 1
        assert asyncio.run(runtime.pipeline.process_pending()) == 0
    finally:
        runtime.db.dispose()
    with demo_db.session() as session:
        replies = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reply")).all()
    assert [r.text.startswith("Hello Margaret") for r in replies] == [True]


def test_a_blank_text_gets_a_polite_prompt_and_the_conversation_carries_on(
    phone: Phone,
) -> None:
    phone.say("book a visit")
    phone.inbox.clear()
    for blank in ("", "   ", "\n\t "):
        (prompt,) = phone.say(blank)
        assert "no words" in prompt["text"] and "type what you need" in prompt["text"]
    (offer,) = phone.say("1")  # the needs question was still open
    assert "Which suits you?" in offer["text"]
