"""Conversations stored before the slots were typed still load: the JSON keys are the same."""

from __future__ import annotations

from datetime import date

from flows.slot_data import BookSlots, ComplaintSlots, FeedbackSlots, NeedSlots, VisitSlots


def test_a_booking_saved_as_plain_json_reads_back_typed() -> None:
    stored = {
        "job_id": "7",
        "appointment_id": 3,
        "offers": [["2025-12-02", "morning"], ["2025-12-03", "afternoon"]],
        "offer_lead": "Sorry, nothing is free then.",
        "missed": True,
        "menu": [["1", "My visits", "appointments", None]],
    }
    slots = BookSlots.of(stored)
    assert slots.job_id == 7
    assert slots.appointment_id == 3
    assert slots.offers == ((date(2025, 12, 2), "morning"), (date(2025, 12, 3), "afternoon"))
    assert slots.offer_lead == "Sorry, nothing is free then."
    assert slots.pref is None


def test_missing_keys_read_as_defaults() -> None:
    assert BookSlots.of({}) == BookSlots()
    assert NeedSlots.of({}) == NeedSlots(need_words="", need_category="other")
    assert VisitSlots.of({"appointment_id": None}).appointment_id is None
    assert ComplaintSlots.of({"appointment_id": None}) == ComplaintSlots()


def test_feedback_answers_so_far() -> None:
    slots = FeedbackSlots.of(
        {"appointment_id": 9, "rating": 4, "showed_id": True, "left_tidy": False}
    )
    assert slots.appointment_id == 9 and slots.rating == 4
    assert slots.any_no
    assert not FeedbackSlots.of({"appointment_id": 9, "rating": 5, "respectful": True}).any_no


def test_a_complaint_being_logged_keeps_its_promised_date() -> None:
    slots = ComplaintSlots.of({"appointment_id": 2, "respond_by": "2025-12-15"})
    assert slots == ComplaintSlots(2, date(2025, 12, 15))
