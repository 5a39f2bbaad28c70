"""Answers FAQ intents with the current approved, vetted answer and its guide source."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import ANSWER, latest_intent, messages, reply, settings
from actions.handoff import hand_off
from bot.content.answers import approved_answer
from bot.db.session import session_scope

logger = logging.getLogger(__name__)


def send_answer(dispatcher: CollectingDispatcher, intent: str, **extra: Any) -> bool:
    """Sends the approved answer for ``intent`` with its source; False when there is none."""
    try:
        with session_scope(settings().database_url) as session:
            answer = approved_answer(session, intent)
    except SQLAlchemyError:
        logger.exception("could not read the answer for %s", intent)
        answer = None
    if answer is None:
        return False
    reply(
        dispatcher,
        answer.text,
        ANSWER,
        buttons=messages().answer_buttons(intent),
        intent=intent,
        answer_id=answer.answer_id,
        version=answer.version,
        source={
            "document": messages().text("source_document"),
            "section": answer.section,
            "quotes": list(answer.quotes),
            "label": messages().text("source_prefix"),
            "reviewer": answer.reviewer,
            "reviewed_on": answer.reviewed_on.isoformat(),
        },
        **extra,
    )
    return True


class ActionAnswerFaq(Action):
    """``action_answer_faq``: never composes text, only returns what was reviewed."""

    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker).get("name") or ""
        if not send_answer(dispatcher, intent):
            # No vetted text to give: be honest and hand over rather than improvise.
            logger.error("no approved answer for intent %s; handing off", intent)
            return hand_off(dispatcher, tracker, "no_answer")
        return []
