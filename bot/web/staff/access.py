"""What every staff page shares: the request's database session, the signed-in user, the
role check, and the values every staff template sees."""

from __future__ import annotations

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
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session

from bot.cases import casework
from bot.db.models import (
    ROLE_ADMIN,
    ROLE_STAFF,
    StaffUser,
)
from bot.db.session import session_factory

blueprint = Blueprint("staff", __name__, url_prefix="/staff")

IDLE_TIMEOUT_S = 30 * 60
REASONS = ("urgent", "clinical", "requested", "admin", "fallback", "no_answer", "language")


def db() -> Session:
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
        forget_login()
        flash("You were logged out after 30 minutes without activity.")
        return None
    user = db().get(StaffUser, user_id)
    if user is None or not user.active:
        forget_login()
        return None
    session["staff_last_seen"] = time.time()
    return user


def forget_login() -> None:
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
                return redirect(url_for("staff.auth.login", next=request.path))
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
