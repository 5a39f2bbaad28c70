"""When processing a patient message produced no reply (the action server down, a crash).

Runs inside the Rasa server, which still has the message and what the NLU understood. The
patient always gets a safe reply: the emergency instruction for red-flag symptoms, otherwise
the error message with the clinic's phone number. A message that should have reached staff is
escalated from here, with the same deduplication key the actions use, so a later resend that
the action server does handle does not open a second escalation.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any

from bot.intents import ADMIN_INTENTS, CLINICAL, REQUEST_HUMAN, URGENT_SYMPTOMS, handoff_reason
from bot.reply import ERROR, REPLY_METADATA_KEY
from bot.reply import URGENT as URGENT_KIND

logger = logging.getLogger(__name__)

ESCALATED_INTENTS = frozenset({URGENT_SYMPTOMS, CLINICAL, REQUEST_HUMAN}) | ADMIN_INTENTS
# The action that stays quiet on purpose while a person replies (actions/human.py).
HUMAN_MODE_ACTION = "action_human_mode"
QUIET_MARKER_SLOT = "quiet_for"  # actions/human.py sets it on the quiet turn
FALLBACK_TEXT = (
    "Sorry, something went wrong on our side. "
    "If this is an emergency, call your local emergency number now."
)


@lru_cache(maxsize=1)
def _messages():  # noqa: ANN202
    from bot.config import load_settings
    from bot.content.messages import Messages

    return Messages.load(load_settings().content_dir)


@lru_cache(maxsize=1)
def _writer():  # noqa: ANN202
    from bot.cases.escalations import EscalationWriter
    from bot.config import load_settings

    return EscalationWriter.from_settings(load_settings())


def _text(key: str) -> str:
    try:
        return _messages().text(key)
    except Exception:  # noqa: BLE001 - the last line of defence must not fail itself
        logger.exception("could not load the %s message; using the built-in one", key)
        return FALLBACK_TEXT


def error_reply() -> dict[str, Any]:
    return {"text": _text("error"), REPLY_METADATA_KEY: {"kind": ERROR}}


def urgent_reply(recorded: bool) -> dict[str, Any]:
    try:
        emergency = _messages().clinic["emergency_number"]
    except Exception:  # noqa: BLE001
        emergency = None
    return {
        "text": _text("urgent"),
        REPLY_METADATA_KEY: {
            "kind": URGENT_KIND,
            "emergency_number": emergency,
            "recorded": recorded,
            "recovered": True,  # sent by the Rasa server, not by the action
        },
    }


def _agent():  # noqa: ANN202
    """The Rasa agent of this server process, or None outside a Rasa server."""
    from sanic import Sanic

    for name in ("rasa_server", "rasa_core_no_api"):
        try:
            return getattr(Sanic.get_app(name).ctx, "agent", None)
        except Exception:  # noqa: BLE001, S112 - Sanic raises SanicException when absent
            continue
    return None


async def _conversation_state(
    sender_id: str, text: str | None, message_id: str | None, metadata: dict | None
) -> dict[str, Any] | None:
    """The conversation as the Rasa server holds it; when the tracker store is out of reach
    (the database is down), the message alone, understood by the NLU here."""
    from rasa.shared.core.trackers import EventVerbosity

    agent = _agent()
    if agent is None or agent.processor is None:
        return None
    try:
        tracker = await agent.processor.get_tracker(sender_id)
        state = tracker.current_state(EventVerbosity.ALL)
        if (state.get("latest_message") or {}).get("text") == text:
            return state
    except Exception as error:  # noqa: BLE001 - exactly the case this module is for
        logger.error("conversation %s unavailable (%s)", sender_id, type(error).__name__)
    if not text:
        return None
    parse = await agent.parse_message(text)
    parse["message_id"] = message_id
    parse["metadata"] = metadata or {}
    return {
        "sender_id": sender_id,
        "latest_message": parse,
        "events": [{"event": "user", "text": text, "parse_data": parse, "timestamp": None}],
    }


def escalate(state: dict[str, Any]) -> tuple[str | None, bool]:
    """Escalates the latest message when its intent needs staff: (priority, recorded).

    An urgent one is made durable in the spool and written in the background, so the
    emergency instruction does not wait for the database."""
    from bot.cases.escalations import request_for_latest_message
    from bot.db.models import PRIORITY_NORMAL, PRIORITY_URGENT

    intent = ((state.get("latest_message") or {}).get("intent") or {}).get("name")
    if intent not in ESCALATED_INTENTS:
        return None, False
    if intent == URGENT_SYMPTOMS:
        request = request_for_latest_message(state, "urgent", PRIORITY_URGENT)
        return PRIORITY_URGENT, _writer().record_urgent(request)
    request = request_for_latest_message(state, handoff_reason(intent), PRIORITY_NORMAL)
    return PRIORITY_NORMAL, _writer().write_or_spool(request) is not None


def quiet_on_purpose(state: dict[str, Any]) -> bool:
    """Whether the assistant ran ``action_human_mode`` for the latest message: a person is
    replying, so no reply is the right reply (an emergency never gets there: the rules send it
    to the urgent action)."""
    since_user = []
    for event in reversed(state.get("events") or []):
        if event.get("event") == "user":
            break
        since_user.append(event)
    ran = any(e.get("event") == "action" and e.get("name") == HUMAN_MODE_ACTION for e in since_user)
    # Rasa logs the action even when it failed: only the marker it sets proves it ran.
    marked = any(
        e.get("event") == "slot" and e.get("name") == QUIET_MARKER_SLOT for e in since_user
    )
    return ran and marked


async def recover(
    sender_id: str,
    text: str | None = None,
    message_id: str | None = None,
    metadata: dict | None = None,
) -> dict[str, Any] | None:
    """The one reply for a message that got none; escalates it when staff must see it.
    None when the silence was deliberate (human mode)."""
    try:
        state = await _conversation_state(sender_id, text, message_id, metadata)
        if state is None:
            return error_reply()
        if quiet_on_purpose(state):
            return None
        priority, recorded = await asyncio.to_thread(escalate, state)
    except Exception:  # noqa: BLE001 - a reply goes out whatever failed here
        logger.exception("recovery failed for conversation %s", sender_id)
        return error_reply()
    logger.warning(
        "no reply was produced for conversation %s; sent the safe reply (escalation: %s %s)",
        sender_id,
        priority,
        "recorded" if recorded else "not recorded",
    )
    if priority == "urgent":
        return urgent_reply(recorded)
    return error_reply()
