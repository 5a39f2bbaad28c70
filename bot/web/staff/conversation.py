"""Staff in the patient's chat: reply, hand back to the assistant, and the live transcript
the escalation page polls. The work is in ``bot.cases.live_chat``."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from bot.cases import casework, live_chat
from bot.content.messages import Messages
from bot.db.models import Escalation
from bot.web.rasa_client import RasaUnavailable
from bot.web.staff.access import db, login_required

logger = logging.getLogger(__name__)
blueprint = Blueprint("conversation", __name__)

UNDELIVERED = (
    "The assistant's server is not answering, so nothing was sent to the patient. "
    "Try again in a moment, or call the patient."
)


def _escalation(escalation_id: int) -> Escalation:
    escalation = db().get(Escalation, escalation_id)
    if escalation is None:
        abort(404)
    return escalation


def _messages() -> Messages:
    return current_app.extensions["clinic_messages"]


def _rasa() -> live_chat.ConversationEvents:
    return current_app.extensions["rasa_client"]


def _back(escalation_id: int) -> ResponseReturnValue:
    return redirect(url_for("staff.cases.case", escalation_id=escalation_id) + "#reply")


@blueprint.post("/escalations/<int:escalation_id>/reply")
@login_required()
def reply(escalation_id: int) -> ResponseReturnValue:
    escalation = _escalation(escalation_id)
    try:
        live_chat.send_reply(
            db(), _rasa(), escalation, g.user, request.form.get("reply", ""), _messages()
        )
    except casework.CaseError as error:
        db().rollback()
        flash(str(error))
    except RasaUnavailable as error:
        db().rollback()
        logger.error("staff reply for escalation %s not delivered: %s", escalation_id, error)
        flash(UNDELIVERED)
    else:
        db().commit()
        flash("Reply sent to the patient.")
    return _back(escalation_id)


@blueprint.post("/escalations/<int:escalation_id>/hand-back")
@login_required()
def hand_back(escalation_id: int) -> ResponseReturnValue:
    escalation = _escalation(escalation_id)
    try:
        ended = live_chat.end_human_mode(db(), _rasa(), escalation, g.user, _messages())
    except RasaUnavailable as error:
        db().rollback()
        logger.error("hand back for escalation %s not delivered: %s", escalation_id, error)
        flash(UNDELIVERED)
    else:
        db().commit()
        flash("The assistant answers the patient again." if ended else "No person was replying.")
    return _back(escalation_id)


@blueprint.get("/escalations/<int:escalation_id>/transcript.json")
@login_required()
def transcript_json(escalation_id: int) -> ResponseReturnValue:
    """Polled by the escalation page: the patient's new messages appear without a reload."""
    escalation = _escalation(escalation_id)
    turns = casework.transcript(db(), escalation, _messages().payload_titles())
    return jsonify(
        human_mode=escalation.human_mode_since is not None,
        turns=[
            {
                "who": t.who,
                "text": t.text,
                "at": t.at.strftime("%H:%M:%S") if t.at else None,
                "kind": t.kind,
                "staff_name": t.staff_name,
                "intent": t.intent,
            }
            for t in turns
        ],
    )


def after_claim(escalation: Escalation) -> None:
    """A claimed "reply here" conversation goes into human mode at once (the claim is already
    committed; if Rasa is down, the first reply starts human mode instead)."""
    if escalation.contact_method != "chat":
        return
    try:
        live_chat.start_human_mode(db(), _rasa(), escalation, g.user, _messages())
        db().commit()
    except (RasaUnavailable, casework.CaseError) as error:
        db().rollback()
        logger.error("human mode for escalation %s not started: %s", escalation.id, error)


def after_resolve(escalation: Escalation) -> None:
    """Resolving ends human mode: the assistant answers the patient again."""
    try:
        if live_chat.end_human_mode(db(), _rasa(), escalation, g.user, _messages()):
            db().commit()
    except RasaUnavailable as error:
        db().rollback()
        logger.error("human mode for escalation %s not ended: %s", escalation.id, error)
