"""Signing in and out of the staff console."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from bot.cases import casework
from bot.cases.accounts import authenticate
from bot.web.staff.access import db, forget_login, login_required

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
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
        return redirect(target if target.startswith("/staff") else url_for("staff.cases.queue"))
    return render_template("staff/login.html")


@blueprint.post("/logout")
@login_required()
def logout() -> ResponseReturnValue:
    casework.audit(db(), g.user, "logout")
    db().commit()
    forget_login()
    return redirect(url_for("staff.auth.login"))
