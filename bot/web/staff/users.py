"""Accounts and the audit log (admins)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bot.cases import casework
from bot.db.models import (
    ROLE_ADMIN,
    ROLES,
    AuditEntry,
    StaffUser,
)
from bot.web.staff.access import db, login_required

blueprint = Blueprint("users", __name__)


@blueprint.get("/audit")
@login_required(ROLE_ADMIN)
def audit_log() -> ResponseReturnValue:
    entries = db().scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)).all()
    return render_template("staff/audit.html", entries=entries)


@blueprint.get("/users")
@login_required(ROLE_ADMIN)
def users() -> ResponseReturnValue:
    accounts = db().scalars(select(StaffUser).order_by(StaffUser.username)).all()
    return render_template("staff/users.html", accounts=accounts, roles=ROLES)


@blueprint.post("/users/<int:user_id>")
@login_required(ROLE_ADMIN)
def update_user(user_id: int) -> ResponseReturnValue:
    account = db().get(StaffUser, user_id)
    if account is None:
        abort(404)
    if account.id == g.user.id:
        flash("You cannot change your own account here.")
        return redirect(url_for("staff.users.users"))
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
    return redirect(url_for("staff.users.users"))
