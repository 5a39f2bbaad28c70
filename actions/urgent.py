"""Red-flag symptoms: the emergency instruction first, then an urgent escalation never lost."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import URGENT, escalation_request, escalation_writer, messages, reply
from bot.db.models import PRIORITY_URGENT

logger = logging.getLogger(__name__)


class ActionUrgentSymptoms(Action):
    """``action_urgent_symptoms``."""

    def name(self) -> str:
        return "action_urgent_symptoms"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # The instruction goes out whatever happens to the database write below.
        emergency = messages().clinic["emergency_number"]
        try:
            escalation_id = escalation_writer().write(
                escalation_request(tracker, "urgent", PRIORITY_URGENT)
            )
            recorded = escalation_id is not None  # None: spooled to disk, retried in background
        except Exception:  # noqa: BLE001 - even a bug here must not block the instruction
            logger.critical(
                "URGENT ESCALATION FAILED for conversation %s", tracker.sender_id, exc_info=True
            )
            escalation_id, recorded = None, False
        reply(
            dispatcher,
            messages().text("urgent"),
            URGENT,
            emergency_number=emergency,
            escalation_id=escalation_id,
            recorded=recorded,
        )
        return []
