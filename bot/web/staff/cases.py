"""The queue (urgent first), one case and what staff do with it, and the overview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from bot.cases import casework
from bot.db.models import (
    ESCALATION_STATUSES,
    OUTCOMES,
    Escalation,
)
from bot.web.charts import bar_chart
from bot.web.staff import conversation
from bot.web.staff.access import REASONS, db, login_required

blueprint = Blueprint("cases", __name__)


def _filter_from_args() -> casework.QueueFilter:
    def pick(name: str, allowed: tuple[str, ...]) -> str | None:
        value = request.args.get(name) or None
        return value if value in allowed else None

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    return casework.QueueFilter(
        status=pick("status", ESCALATION_STATUSES),
        priority=pick("priority", ("urgent", "normal")),
        reason=pick("reason", REASONS),
        since=day("since"),
        until=day("until"),
    )


def contact_summary(escalation: Escalation) -> str:
    """How the patient asked to hear back, for the queue (the details are on the case page)."""
    method = escalation.contact_method
    if method == "phone":
        return f"call back: {escalation.contact_name}, {escalation.contact_phone}"
    if method == "email":
        return f"e-mail: {escalation.contact_name}, {escalation.contact_email}"
    return {"chat": "reply in chat", "none": "will call us"}.get(method or "", "")


@blueprint.get("/")
@login_required()
def queue() -> ResponseReturnValue:
    flt = _filter_from_args()
    return render_template(
        "staff/queue.html",
        rows=casework.queue(db(), flt),
        contact_summary=contact_summary,
        flt=flt,
        statuses=ESCALATION_STATUSES,
        reasons=REASONS,
    )


@blueprint.get("/queue.json")
@login_required()
def queue_json() -> ResponseReturnValue:
    """Polled by the queue page so new escalations appear without a reload."""
    rows = casework.queue(db(), _filter_from_args())
    return jsonify(
        urgent_open=casework.open_urgent_count(db()),
        escalations=[
            {
                "id": r.id,
                "priority": r.priority,
                "reason": r.reason,
                "status": r.status,
                "created_at": r.created_at.strftime("%Y-%m-%d %H:%M"),
                "claimed_by": r.claimed_by.username if r.claimed_by else None,
                "contact": contact_summary(r),
                "url": url_for("staff.cases.case", escalation_id=r.id),
            }
            for r in rows
        ],
    )


@blueprint.get("/escalations/<int:escalation_id>")
@login_required()
def case(escalation_id: int) -> ResponseReturnValue:
    try:
        escalation = casework.get_case(db(), escalation_id, g.user)
    except LookupError:
        abort(404)
    db().commit()  # the view is on record before anything else can fail
    turns = casework.transcript(
        db(), escalation, current_app.extensions["clinic_messages"].payload_titles()
    )
    return render_template(
        "staff/case.html",
        e=escalation,
        turns=turns,
        outcomes=OUTCOMES,
        contact=casework.contact_details(turns),
    )


def _change(
    escalation_id: int,
    action: Callable[[Escalation], None],
    done: str,
    then: Callable[[Escalation], None] | None = None,
) -> ResponseReturnValue:
    escalation = db().get(Escalation, escalation_id)
    if escalation is None:
        abort(404)
    try:
        action(escalation)
    except casework.CaseError as error:
        db().rollback()
        flash(str(error))
    else:
        db().commit()
        flash(done)
        if then is not None:
            then(escalation)
    return redirect(url_for("staff.cases.case", escalation_id=escalation_id))


@blueprint.post("/escalations/<int:escalation_id>/claim")
@login_required()
def claim(escalation_id: int) -> ResponseReturnValue:
    return _change(
        escalation_id,
        lambda e: casework.claim(db(), e, g.user),
        "Claimed.",
        then=conversation.after_claim,
    )


@blueprint.post("/escalations/<int:escalation_id>/note")
@login_required()
def note(escalation_id: int) -> ResponseReturnValue:
    text = request.form.get("note", "")
    return _change(escalation_id, lambda e: casework.add_note(db(), e, g.user, text), "Note added.")


@blueprint.post("/escalations/<int:escalation_id>/resolve")
@login_required()
def resolve(escalation_id: int) -> ResponseReturnValue:
    outcome = request.form.get("outcome", "")
    return _change(
        escalation_id,
        lambda e: casework.resolve(db(), e, g.user, outcome),
        "Resolved.",
        then=conversation.after_resolve,
    )


@blueprint.post("/escalations/<int:escalation_id>/reopen")
@login_required()
def reopen(escalation_id: int) -> ResponseReturnValue:
    return _change(escalation_id, lambda e: casework.reopen(db(), e, g.user), "Reopened.")


@blueprint.post("/escalations/<int:escalation_id>/flag")
@login_required()
def flag(escalation_id: int) -> ResponseReturnValue:
    """Marks the conversation for the maintainers' inbox (or takes the mark away)."""

    def toggle(escalation: Escalation) -> None:
        escalation.flagged_for_training = not escalation.flagged_for_training
        casework.audit(db(), g.user, "flag", escalation.id, flagged=escalation.flagged_for_training)

    return _change(escalation_id, toggle, "Training flag updated.")


@blueprint.get("/overview")
@login_required()
def overview() -> ResponseReturnValue:
    figures = casework.overview(db())
    charts = {
        "per_day": bar_chart(
            [(d.strftime("%d %b"), n) for d, n in figures.per_day], "Escalations per day"
        ),
        "by_reason": bar_chart(figures.by_reason, "Escalations by reason"),
        "questions": bar_chart(
            [(q[:40] + ("…" if len(q) > 40 else ""), n) for q, n in figures.top_questions],
            "Most often escalated questions",
        ),
    }
    return render_template("staff/overview.html", figures=figures, charts=charts)
