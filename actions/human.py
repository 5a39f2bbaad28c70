"""Human mode: while a staff member replies in the chat, the assistant stays quiet.

The safety check still runs on every message (the NLU pipeline) and an emergency still gets
the urgent reply at once: the rules in ``data/rules/human_mode.yml`` send every other intent
here. Staff start and end human mode through Rasa's HTTP API (``bot.web.staff.conversation``);
it also ends after clinic.yml's ``handoff.human_mode_timeout_minutes`` without a staff word.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import HUMAN, clock, latest_intent, messages, reply, settings, staff_mailer
from actions.handoff import LANGUAGE_URGENT_PROBABILITY, hand_off
from bot.cases.patient_contact import human_mode_expired, record_patient_message
from bot.db.session import session_scope
from bot.intents import OTHER_LANGUAGE

QUIET_MARKER_SLOT = "quiet_for"  # read by bot.rasa_server.recovery

logger = logging.getLogger(__name__)


def end_human_mode_in_db(conversation_id: str) -> None:
    from bot.cases.patient_contact import latest_open_escalation, set_human_mode

    with session_scope(settings().database_url) as session:
        escalation = latest_open_escalation(session, conversation_id)
        if escalation is not None:
            set_human_mode(session, escalation, on=False)


class ActionHumanMode(Action):
    """``action_human_mode``: a patient message while a person is replying."""

    def name(self) -> str:
        return "action_human_mode"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        safety = tracker.latest_message.get("safety") or {}
        if (
            latest_intent(tracker).get("name") == OTHER_LANGUAGE
            and (safety.get("urgent_probability") or 0.0) >= LANGUAGE_URGENT_PROBABILITY
        ):
            # Possibly an emergency nobody here can read: the notice with the emergency number
            # in the patient's language, and an urgent escalation, as outside human mode.
            return hand_off(dispatcher, tracker, "language", urgent=True)
        escalation_id = tracker.get_slot("escalation_id")
        if human_mode_expired(
            tracker.get_slot("human_mode_at"), messages().human_mode_timeout, clock()
        ):
            try:
                end_human_mode_in_db(tracker.sender_id)
            except Exception:  # noqa: BLE001 - the conversation goes back to the assistant
                logger.exception("human mode end not saved for %s", tracker.sender_id)
            reply(dispatcher, messages().text("human_left"), HUMAN, human_mode=False)
            return [SlotSet("human_mode", False), SlotSet("human_mode_at", None)]
        try:
            escalation_id = record_patient_message(
                settings().database_url,
                tracker.sender_id,
                int(escalation_id) if escalation_id is not None else None,
            )
        except Exception:  # noqa: BLE001 - the message is in the tracker; staff still see it
            logger.exception("patient message time not saved for %s", tracker.sender_id)
            escalation_id = None
        mailer = staff_mailer()
        if mailer is not None and escalation_id is not None:
            mailer.send_in_background("patient_message", escalation_id)
        # Quiet: the person replying sees the message on the escalation page. The marker tells
        # the recovery path this silence is on purpose (a failed run leaves no marker).
        return [SlotSet(QUIET_MARKER_SLOT, tracker.latest_message.get("message_id") or "quiet")]
