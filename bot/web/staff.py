"""The staff console at /staff: log in, the queue (urgent first), a case, the overview,
the audit log and user management. Every route checks the role; every change is audited."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from typing import Any

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
    session,
    url_for,
)
from sqlalchemy import select

from bot.cases import casework
from bot.cases.accounts import authenticate
from bot.db.models import (
    OUTCOMES,
    ROLE_ADMIN,
    ROLE_STAFF,
    ROLES,
    STATUSES,
    AuditEntry,
    Escalation,
    InboxItem,
    StaffUser,
)
from bot.db.session import session_factory
from bot.intents import ALL_INTENTS
from bot.maintain.inbox import decide
from bot.web.charts import bar_chart

blueprint = Blueprint("staff", __name__, url_prefix="/staff")

IDLE_TIMEOUT_S = 30 * 60
REASONS = ("urgent", "clinical", "requested", "admin", "fallback", "no_answer", "language")


def db():
    """One SQLAlchemy session per request, closed at teardown."""
    if "db" not in g:
        g.db = session_factory(current_app.config["SETTINGS"].database_url)()
    return g.db


@blueprint.teardown_app_request
def _close_db(_error: BaseException | None) -> None:
    session_ = g.pop("db", None)
    if session_ is not None:
        session_.close()


def current_user() -> StaffUser | None:
    user_id = session.get("staff_user_id")
    if user_id is None:
        return None
    last_seen = session.get("staff_last_seen", 0)
    if time.time() - last_seen > current_app.config.get("STAFF_IDLE_TIMEOUT_S", IDLE_TIMEOUT_S):
        _forget_login()
        flash("You were logged out after 30 minutes without activity.")
        return None
    user = db().get(StaffUser, user_id)
    if user is None or not user.active:
        _forget_login()
        return None
    session["staff_last_seen"] = time.time()
    return user


def _forget_login() -> None:
    for key in ("staff_user_id", "staff_last_seen"):
        session.pop(key, None)


def login_required(role: str = ROLE_STAFF) -> Callable:
    """Anonymous requests go to the login page (JSON: 401); a staff user on an admin page: 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.path.endswith(".json"):
                    return jsonify(error="login required"), 401
                return redirect(url_for("staff.login", next=request.path))
            if role == ROLE_ADMIN and user.role != ROLE_ADMIN:
                abort(403)
            g.user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


@blueprint.app_context_processor
def _staff_globals() -> dict[str, Any]:
    user = g.get("user")
    if user is None:
        return {}
    return {"user": user, "urgent_open": casework.open_urgent_count(db())}


# --- login --------------------------------------------------------------------------------
@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "")
        result = authenticate(db(), username, request.form.get("password", ""))
        if result.user is None:
            casework.audit(db(), None, "login_failed", username=username[:64], locked=result.locked)
            db().commit()
            message = (
                "Too many failed attempts: this account is locked for 15 minutes."
                if result.locked
                else "Wrong username or password."
            )
            return render_template("staff/login.html", error=message), 401
        session.clear()  # a fresh session on login: no fixation
        session["staff_user_id"] = result.user.id
        session["staff_last_seen"] = time.time()
        casework.audit(db(), result.user, "login")
        db().commit()
        target = request.args.get("next", "")
        return redirect(target if target.startswith("/staff") else url_for("staff.queue"))
    return render_template("staff/login.html")


@blueprint.post("/logout")
@login_required()
def logout():
    casework.audit(db(), g.user, "logout")
    db().commit()
    _forget_login()
    return redirect(url_for("staff.login"))


# --- queue and cases ----------------------------------------------------------------------
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
        status=pick("status", STATUSES),
        priority=pick("priority", ("urgent", "normal")),
        reason=pick("reason", REASONS),
        since=day("since"),
        until=day("until"),
    )


@blueprint.get("/")
@login_required()
def queue():
    flt = _filter_from_args()
    return render_template(
        "staff/queue.html",
        rows=casework.queue(db(), flt),
        flt=flt,
        statuses=STATUSES,
        reasons=REASONS,
    )


@blueprint.get("/queue.json")
@login_required()
def queue_json():
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
                "url": url_for("staff.case", escalation_id=r.id),
            }
            for r in rows
        ],
    )


@blueprint.get("/escalations/<int:escalation_id>")
@login_required()
def case(escalation_id: int):
    try:
        escalation = casework.get_case(db(), escalation_id, g.user)
    except LookupError:
        abort(404)
    db().commit()  # the view is on record before anything else can fail
    turns = casework.transcript(db(), escalation)
    return render_template(
        "staff/case.html",
        e=escalation,
        turns=turns,
        outcomes=OUTCOMES,
        contact=casework.contact_details(turns),
    )


def _change(escalation_id: int, action: Callable[[Escalation], None], done: str):
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
    return redirect(url_for("staff.case", escalation_id=escalation_id))


@blueprint.post("/escalations/<int:escalation_id>/claim")
@login_required()
def claim(escalation_id: int):
    return _change(escalation_id, lambda e: casework.claim(db(), e, g.user), "Claimed.")


@blueprint.post("/escalations/<int:escalation_id>/note")
@login_required()
def note(escalation_id: int):
    text = request.form.get("note", "")
    return _change(escalation_id, lambda e: casework.add_note(db(), e, g.user, text), "Note added.")


@blueprint.post("/escalations/<int:escalation_id>/resolve")
@login_required()
def resolve(escalation_id: int):
    outcome = request.form.get("outcome", "")
    return _change(escalation_id, lambda e: casework.resolve(db(), e, g.user, outcome), "Resolved.")


@blueprint.post("/escalations/<int:escalation_id>/reopen")
@login_required()
def reopen(escalation_id: int):
    return _change(escalation_id, lambda e: casework.reopen(db(), e, g.user), "Reopened.")


@blueprint.post("/escalations/<int:escalation_id>/flag")
@login_required()
def flag(escalation_id: int):
    """Marks the conversation for the maintainers' inbox (or takes the mark away)."""

    def toggle(escalation: Escalation) -> None:
        escalation.flagged_for_training = not escalation.flagged_for_training
        casework.audit(db(), g.user, "flag", escalation.id, flagged=escalation.flagged_for_training)

    return _change(escalation_id, toggle, "Training flag updated.")


# --- maintainers' inbox -------------------------------------------------------------------
@blueprint.get("/inbox")
@login_required(ROLE_ADMIN)
def inbox():
    items = (
        db()
        .scalars(
            select(InboxItem)
            .where(InboxItem.merged_at.is_(None))
            .order_by(InboxItem.decision.is_not(None), InboxItem.count.desc(), InboxItem.id)
        )
        .all()
    )
    return render_template("staff/inbox.html", items=items, intents=sorted(ALL_INTENTS))


@blueprint.post("/inbox/<int:item_id>")
@login_required(ROLE_ADMIN)
def inbox_decide(item_id: int):
    item = db().get(InboxItem, item_id)
    if item is None:
        abort(404)
    decision, intent = request.form.get("decision", ""), request.form.get("intent") or None
    try:
        decide(db(), item, decision, intent, g.user.username)
    except ValueError as error:
        db().rollback()
        flash(str(error))
    else:
        casework.audit(db(), g.user, "inbox_decide", item=item.id, decision=decision, intent=intent)
        db().commit()
        flash(f"Item {item.id}: {decision}{' ' + intent if intent else ''}.")
    return redirect(url_for("staff.inbox"))


# --- overview, audit, users ---------------------------------------------------------------
@blueprint.get("/overview")
@login_required()
def overview():
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


@blueprint.get("/audit")
@login_required(ROLE_ADMIN)
def audit_log():
    entries = db().scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)).all()
    return render_template("staff/audit.html", entries=entries)


@blueprint.get("/users")
@login_required(ROLE_ADMIN)
def users():
    accounts = db().scalars(select(StaffUser).order_by(StaffUser.username)).all()
    return render_template("staff/users.html", accounts=accounts, roles=ROLES)


@blueprint.post("/users/<int:user_id>")
@login_required(ROLE_ADMIN)
def update_user(user_id: int):
    account = db().get(StaffUser, user_id)
    if account is None:
        abort(404)
    if account.id == g.user.id:
        flash("You cannot change your own account here.")
        return redirect(url_for("staff.users"))
    role = request.form.get("role")
    active = request.form.get("active") == "1"
    if role in ROLES:
        account.role = role
    account.active = active
    casework.audit(
        db(), g.user, "user_update", target=account.username, role=account.role, active=active
    )
    db().commit()
    flash(f"Updated {account.username}.")
    return redirect(url_for("staff.users"))
