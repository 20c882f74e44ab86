"""Feedback review: the list with filters (a page at a time, "next page" by cursor) and a
weekly chart, each answer beside its transcript, marking reviewed, escalating to a
complaint, and a CSV export streamed in batches."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, time
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from bot.web.staff import feedback_views, read_models
from bot.web.staff.audit import record
from bot.web.staff.csrf import protect
from bot.web.staff.deps import CurrentUser, current_user, require_editor
from bot.web.staff.forms import MAX_NOTE, opt_bool, opt_date, opt_int, text
from bot.web.staff.web import StaffRoute, StaffServices, redirect, render, services
from flows.complaint import RESPONSE_WORKING_DAYS, working_days_after
from storage.models import Complaint, Feedback
from storage.repositories.feedback import (
    FeedbackFilters,
    complaint_from_feedback,
    feedback_count,
    feedback_for_update,
)

router = APIRouter(route_class=StaffRoute, dependencies=[Depends(protect)])

CSV_COLUMNS = (
    "feedback_id",
    "visit_day",
    "visit",
    "resident",
    "operative",
    "contractor",
    "rating",
    "showed_id",
    "asked_before_facilities",
    "left_tidy",
    "respectful",
    "comment",
    "flagged",
    "completed",
    "reviewed_at",
    "reviewed_by",
    "review_note",
    "complaint",
)


def _filters(request: Request) -> FeedbackFilters:
    q = request.query_params
    return FeedbackFilters(
        date_from=opt_date(q.get("date_from"), "From"),
        date_to=opt_date(q.get("date_to"), "To"),
        contractor_id=opt_int(q.get("contractor_id"), "Contractor"),
        operative_id=opt_int(q.get("operative_id"), "Operative"),
        rating=opt_int(q.get("rating"), "Rating", low=1, high=5),
        flagged=opt_bool(q.get("flagged"), "Flagged"),
        reviewed=opt_bool(q.get("reviewed"), "Reviewed"),
    )


@router.get("/staff/feedback", response_class=HTMLResponse)
def feedback_list(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    filters = _filters(request)
    after = feedback_views.decode_cursor(request.query_params.get("after"))
    today = staff.now().astimezone(staff.zone).date()
    with staff.runtime.db.session() as session:
        page = feedback_views.feedback_page(
            session, filters, after=after, limit=read_models.PAGE_SIZE
        )
        chart = feedback_views.weekly_summary(session, filters, today=today)
        operatives, contractors = feedback_views.filter_choices(session, filters)
    # The filters without the cursor: the CSV link, and the base of the next page's link.
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
    next_query = None
    if page.next_cursor is not None:
        next_query = urlencode([*kept, ("after", page.next_cursor)])
    return render(
        request,
        staff,
        "feedback_list.html",
        {
            "title": "Feedback",
            "rows": page.rows,
            "chart": chart,
            "weeks": chart.weeks,
            "filters": filters,
            "operatives": operatives,
            "contractors": contractors,
            "query": urlencode(kept),
            "next_query": next_query,
            "first_page": after is None,
            "page_size": read_models.PAGE_SIZE,
            "chart_weeks": feedback_views.CHART_WEEKS,
        },
    )


def _cell(value: object) -> str:
    """Spreadsheet-safe: a resident's comment starting with = or + must not become a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    out = str(value)
    if out[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + out
    return out


@router.get("/staff/feedback.csv")
def feedback_csv(
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    filters = _filters(request)
    now = staff.now()
    db = staff.runtime.db
    with db.session() as session:
        record(
            session,
            user=user,
            action="feedback.exported",
            subject_type="feedback",
            subject_id=None,
            now=now,
            rows=feedback_count(session, filters=filters),
            query=request.url.query,
        )

    def lines() -> Iterator[str]:
        """The header at once, then each batch of rows as it is read: one session for the
        export, CSV_BATCH rows a statement, nothing kept once written."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        with db.session() as session:
            for batch in feedback_views.feedback_batches(session, filters):
                writer.writerows([_cell(v) for v in _csv_values(r)] for r in batch)
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    local = now.astimezone(staff.zone)
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="feedback-{local:%Y%m%d-%H%M}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _csv_values(r: feedback_views.FeedbackRow) -> tuple[object, ...]:
    return (
        r.id,
        r.visit_day.isoformat(),
        r.visit,
        r.resident,
        r.operative,
        r.contractor,
        r.rating,
        r.showed_id,
        r.asked_before_facilities,
        r.left_tidy,
        r.respectful,
        r.comment,
        r.flagged,
        r.completed,
        r.reviewed_at,
        r.reviewed_by,
        r.review_note,
        r.complaint_reference or "",
    )


@router.get("/staff/feedback/{feedback_id}", response_class=HTMLResponse)
def feedback_detail(
    feedback_id: int,
    request: Request,
    user: CurrentUser = Depends(current_user),
    staff: StaffServices = Depends(services),
) -> Response:
    with staff.runtime.db.session() as session:
        row = feedback_views.feedback_row(session, feedback_id)
        if row is None:
            raise HTTPException(status_code=404, detail="No such feedback.")
        transcript = feedback_views.feedback_transcript(
            session,
            feedback_id,
            now=staff.now(),
            show_needs=read_models.sees_access_needs(user.role),
        )
    return render(
        request,
        staff,
        "feedback_detail.html",
        {"title": f"Feedback {row.id}", "row": row, "transcript": transcript},
    )


@router.post("/staff/feedback/{feedback_id}/review")
def review_feedback(
    feedback_id: int,
    note: str = Form("", max_length=MAX_NOTE * 2),
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    cleaned = text(note, "note", limit=MAX_NOTE)
    now = staff.now()
    with staff.runtime.db.session() as session:
        fb = session.get(Feedback, feedback_id)
        if fb is None:
            raise HTTPException(status_code=404, detail="No such feedback.")
        fb.reviewed_at = now
        fb.reviewed_by = user.id
        fb.review_note = cleaned or None
        session.add(fb)
        record(
            session,
            user=user,
            action="feedback.reviewed",
            subject_type="feedback",
            subject_id=feedback_id,
            now=now,
            note=cleaned,
        )
    return redirect(f"/staff/feedback/{feedback_id}?done=reviewed")


@router.post("/staff/feedback/{feedback_id}/escalate")
def escalate_feedback(
    feedback_id: int,
    summary: str = Form("", max_length=MAX_NOTE * 2),
    user: CurrentUser = Depends(require_editor),
    staff: StaffServices = Depends(services),
) -> Response:
    """Open a formal complaint from the feedback (once): the response clock starts today."""
    cleaned = text(summary, "complaint summary", limit=MAX_NOTE, required=True)
    now = staff.now()
    with staff.runtime.db.session() as session:
        # Locked, so two people escalating at once make one complaint, not two.
        fb = feedback_for_update(session, feedback_id=feedback_id)
        if fb is None:
            raise HTTPException(status_code=404, detail="No such feedback.")
        existing = complaint_from_feedback(session, feedback_id=feedback_id)
        if existing is not None:
            return redirect(f"/staff/feedback/{feedback_id}?done=already")
        respond_by = working_days_after(now.astimezone(staff.zone).date(), RESPONSE_WORKING_DAYS)
        complaint = Complaint(
            resident_id=fb.resident_id,
            appointment_id=fb.appointment_id,
            feedback_id=feedback_id,
            text=cleaned,
            created_at=now,
            respond_by=datetime.combine(respond_by, time(17), tzinfo=staff.zone),
        )
        session.add(complaint)
        session.flush()
        if fb.reviewed_at is None:
            fb.reviewed_at, fb.reviewed_by = now, user.id
            fb.review_note = f"Escalated to complaint {complaint.reference}"
            session.add(fb)
        record(
            session,
            user=user,
            action="feedback.escalated",
            subject_type="feedback",
            subject_id=feedback_id,
            now=now,
            complaint_id=complaint.id,
        )
    return redirect(f"/staff/feedback/{feedback_id}?done=escalated")


__all__ = ["router"]
