"""Hands a conversation to staff: clinical questions, requests for a person, admin questions."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import (
    HANDOFF,
    escalation_request,
    escalation_writer,
    latest_intent,
    messages,
    reply,
)
from bot.db.models import PRIORITY_NORMAL
from bot.intents import handoff_reason

logger = logging.getLogger(__name__)


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> None:
    """Records a normal-priority escalation and tells the patient what happens next."""
    try:
        escalation_id = escalation_writer().write(
            escalation_request(tracker, reason, PRIORITY_NORMAL)
        )
    except SQLAlchemyError:
        logger.exception("handoff for conversation %s could not be recorded", tracker.sender_id)
        reply(dispatcher, messages().text("handoff_failed"), HANDOFF, reason=reason, recorded=False)
        return
    reply(
        dispatcher,
        messages().text(f"handoff_{reason}"),
        HANDOFF,
        reason=reason,
        recorded=True,
        escalation_id=escalation_id,
        contact={k: messages().clinic[k] for k in ("name", "phone", "email", "hours")},
    )


class ActionHandoff(Action):
    """``action_handoff``."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        hand_off(dispatcher, tracker, handoff_reason(latest_intent(tracker).get("name") or ""))
        return []
