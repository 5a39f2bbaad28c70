"""Red-flag reports: the emergency instruction first, then an urgent escalation never lost.

The reply that fits the crisis (``data/safety/``: the emergency reply, the crisis line for
suicidal thoughts, poison control for an overdose) goes to the dispatcher before anything
touches the database; the escalation is made durable in the spool (a local file) and written
to the database in the background, so the instruction never waits for it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ERROR, URGENT, escalation_request, escalation_writer, messages, reply
from actions.contact import end_form_events
from bot.db.models import PRIORITY_URGENT

logger = logging.getLogger(__name__)

# The reply keys a red-flag category may ask for (data/safety/categories/*.yml: ``reply``).
URGENT_REPLIES = ("urgent", "crisis", "poison")


class ActionUrgentSymptoms(Action):
    """``action_urgent_symptoms``."""

    def name(self) -> str:
        return "action_urgent_symptoms"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        safety = tracker.latest_message.get("safety") or {}
        clinic = messages().clinic
        reply_key = safety.get("reply") if safety.get("reply") in URGENT_REPLIES else "urgent"
        if safety.get("source") == "error":
            # The safety check itself failed: nobody knows what the message says, so the
            # patient gets the error reply (with the emergency number) and staff an urgent case.
            text, kind = messages().text("error"), ERROR
        else:
            # For a report in another language, that language's version first.
            text, kind = messages().bilingual(reply_key, safety.get("language")), URGENT
            if safety.get("source") == "classifier" and reply_key != "urgent":
                # The learned check chose the crisis line or poison control, and a learned
                # choice can be wrong (an allergic reaction read as suicidal): the emergency
                # instruction always comes with it.
                text += "\n\n" + messages().bilingual("urgent", safety.get("language"))
        # Sent first in the reply list, and nothing below can stop it: a failure to record is
        # logged at CRITICAL, never raised.
        metadata: dict[str, Any] = {
            "emergency_number": clinic["emergency_number"],
            "urgent_reply": reply_key,
        }
        if reply_key == "crisis":
            metadata["crisis_line"] = clinic.get("crisis_line")
        if reply_key == "poison":
            metadata["poison_control"] = clinic.get("poison_control")
        try:
            recorded = escalation_writer().record_urgent(
                escalation_request(tracker, "urgent", PRIORITY_URGENT)
            )
        except Exception:  # noqa: BLE001 - even a bug here must not block the instruction
            logger.critical(
                "URGENT ESCALATION FAILED for conversation %s", tracker.sender_id, exc_info=True
            )
            recorded = False
        reply(dispatcher, text, kind, recorded=recorded, **metadata)
        # An emergency in the middle of the contact form ends it: nothing else is asked.
        return end_form_events(tracker)
