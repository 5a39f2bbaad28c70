"""Hands a conversation to staff: clinical questions, requests for a person, admin questions,
messages in other languages."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    CONTACT,
    HANDOFF,
    clock,
    escalation_request,
    escalation_writer,
    latest_intent,
    messages,
    reply,
)
from actions.contact import end_form_events, offer_choice_events
from bot.db.models import PRIORITY_NORMAL, PRIORITY_URGENT
from bot.intents import FAQ_INTENTS, handoff_reason

logger = logging.getLogger(__name__)


def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, urgent: bool = False
) -> list[dict[str, Any]]:
    """Records an escalation (normal priority unless ``urgent``), tells the patient what
    happens next and asks how they want to hear back; the events to return."""
    safety = tracker.latest_message.get("safety") or {}
    language = safety.get("language") if reason == "language" else None
    priority = PRIORITY_URGENT if urgent else PRIORITY_NORMAL
    escalation_id = None
    try:
        request = escalation_request(tracker, reason, priority)
        if urgent:
            # Never lost, never waited for: spooled first, written in the background.
            recorded = escalation_writer().record_urgent(request)
        else:
            escalation_id = escalation_writer().write(request)
            recorded = True
    except Exception:  # noqa: BLE001 - whatever failed, the patient is told to call
        logger.exception("handoff for conversation %s could not be recorded", tracker.sender_id)
        text = messages().bilingual("language_notice", language, "handoff_failed")
        reply(dispatcher, text, HANDOFF, reason=reason, recorded=False)
        return end_form_events(tracker)
    text = messages().bilingual("language_notice", language, f"handoff_{reason}")
    reply(
        dispatcher,
        text,
        HANDOFF,
        reason=reason,
        recorded=recorded,
        escalation_id=escalation_id,
        priority=priority,
        contact={k: messages().clinic[k] for k in ("name", "phone", "email", "hours")},
        **({"language": language} if language else {}),
    )
    try:
        closed = messages().closed_note(clock())
    except Exception:  # noqa: BLE001 - the handoff is recorded and told; the note is extra
        logger.exception("opening hours note failed for conversation %s", tracker.sender_id)
        closed = None
    if closed:
        # Not "soon": when a person will actually read it (clinic.yml opening_hours).
        reply(dispatcher, closed, HANDOFF, reason=reason, closed=True)
    ended = end_form_events(tracker)
    if escalation_id is None:
        return ended  # an urgent language handoff: staff call back from the urgent queue
    # How the patient wants to hear back (actions/contact.py takes the answer).
    reply(
        dispatcher,
        messages().text("contact_choice"),
        CONTACT,
        buttons=messages().button_list("contact_choice"),
        escalation_id=escalation_id,
    )
    return ended + offer_choice_events(escalation_id)


class ActionHandoff(Action):
    """``action_handoff``: for a personal question that also names an FAQ topic, the general
    answer comes first, so the patient is not left with nothing, then the handoff."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        from actions.answers import general_topics, send_answer

        reason = handoff_reason(latest_intent(tracker).get("name") or "")
        safety = tracker.latest_message.get("safety") or {}
        topic = safety.get("original_intent")
        # Several questions: the general ones are answered first, the handoff comes last.
        topics = general_topics(tracker)
        if not topics and reason == "clinical" and safety.get("answer_first"):
            topics = [topic] if topic in FAQ_INTENTS else []
        for general in topics:
            send_answer(dispatcher, general, general_answer_before_handoff=True)
        return hand_off(dispatcher, tracker, reason)


# A message nobody here can read that the learned check finds this likely to be urgent reaches
# staff as urgent (the patient already has the emergency number in their language).
LANGUAGE_URGENT_PROBABILITY = 0.3


class ActionLanguageNotice(Action):
    """``action_language_notice``: a vetted notice in the patient's language, then staff."""

    def name(self) -> str:
        return "action_language_notice"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        safety = tracker.latest_message.get("safety") or {}
        likely = (safety.get("urgent_probability") or 0.0) >= LANGUAGE_URGENT_PROBABILITY
        return hand_off(dispatcher, tracker, "language", urgent=likely)
