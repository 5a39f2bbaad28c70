"""Answers FAQ intents with the current approved, vetted answer and its guide source."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.common import ANSWER, SMALLTALK, latest_intent, messages, reply, settings
from actions.handoff import hand_off
from bot.content.answers import approved_answer, is_signed
from bot.db.session import session_scope
from bot.intents import ADMIN_INTENTS, FAQ_INTENTS

logger = logging.getLogger(__name__)


def answer_source(answer: Any) -> dict[str, Any]:
    """Where an answer comes from, shown under it: the guide section and its verbatim quotes,
    and who signed it off when someone has (never a placeholder reviewer)."""
    source = {
        "document": messages().text("source_document"),
        "section": answer.section,
        "quotes": list(answer.quotes),
        "label": messages().text("source_prefix"),
    }
    if is_signed(answer.reviewer):
        source.update(reviewer=answer.reviewer, reviewed_on=answer.reviewed_on.isoformat())
    return source


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
    note = messages().answer_note(intent)
    buttons = messages().answer_buttons(intent)
    reply(
        dispatcher,
        answer.text,
        ANSWER,
        buttons=None if note else buttons,
        intent=intent,
        answer_id=answer.answer_id,
        version=answer.version,
        source=answer_source(answer),
        **extra,
    )
    if note:
        # What to do, or where to read on: a clinic message, not part of the vetted answer.
        reply(dispatcher, note, SMALLTALK, buttons=buttons, note_for=intent)
    return True


def general_topics(tracker: Tracker) -> list[str]:
    """The general FAQ topics of a message with several questions, in order (the parts judged
    personal on their own words get no answer: they go to staff)."""
    questions = tracker.latest_message.get("questions") or []
    return [q["intent"] for q in questions if not q.get("personal") and q["intent"] in FAQ_INTENTS]


class ActionAnswerFaq(Action):
    """``action_answer_faq``: never composes text, only returns what was reviewed. A message
    with two or three questions gets each answer in order; an admin one goes to staff last."""

    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker).get("name") or ""
        questions = tracker.latest_message.get("questions") or []
        topics = general_topics(tracker) or [intent]
        for topic in topics:
            if not send_answer(
                dispatcher, topic, **({"of_questions": len(topics)} if questions else {})
            ):
                # No vetted text to give: be honest and hand over rather than improvise.
                logger.error("no approved answer for intent %s; handing off", topic)
                return hand_off(dispatcher, tracker, "no_answer")
        if any(q["intent"] in ADMIN_INTENTS for q in questions):
            return hand_off(dispatcher, tracker, "admin")  # cost or booking: staff, after
        return []


class ActionMoreDetail(Action):
    """``action_more_detail``: "tell me more", "why?": the guide's own words behind the last
    answer (its verbatim quotes, vetted with it), or the topics when nothing was answered yet."""

    def name(self) -> str:
        return "action_more_detail"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topic = last_answered_topic(tracker)
        answer = None
        if topic is not None:
            try:
                with session_scope(settings().database_url) as session:
                    answer = approved_answer(session, topic)
            except SQLAlchemyError:
                logger.exception("could not read the answer for %s", topic)
        if answer is None:
            reply(
                dispatcher,
                messages().text("more_detail_none"),
                ANSWER,
                buttons=messages().button_list("greet"),
            )
            return []
        text = messages().text("more_detail_intro") + "\n\n" + "\n\n".join(answer.quotes)
        reply(
            dispatcher,
            text,
            ANSWER,
            intent=topic,
            answer_id=answer.answer_id,
            version=answer.version,
            detail=True,
            source=answer_source(answer),
        )
        return []


def last_answered_topic(tracker: Tracker) -> str | None:
    """The intent of the last vetted answer in this conversation, if any."""
    for event in reversed(tracker.events):
        if event.get("event") != "bot":
            continue
        meta = (event.get("metadata") or {}).get("reply_metadata") or {}
        if meta.get("kind") == ANSWER and meta.get("intent") in FAQ_INTENTS:
            return meta["intent"]
    return None
