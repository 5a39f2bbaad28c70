"""The maintainers' inbox: missed patient questions to label for training (admins)."""

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
    InboxItem,
)
from bot.intents import ALL_INTENTS
from bot.maintain.inbox import decide
from bot.web.staff.access import db, login_required

blueprint = Blueprint("inbox", __name__)


@blueprint.get("/inbox")
@login_required(ROLE_ADMIN)
def inbox() -> ResponseReturnValue:
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
def inbox_decide(item_id: int) -> ResponseReturnValue:
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
    return redirect(url_for("staff.inbox.inbox"))
