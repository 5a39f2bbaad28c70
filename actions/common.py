"""What every action shares: settings, content, the reply contract and the transcript."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import Settings, load_settings
from bot.content.messages import Messages
from bot.escalations import EscalationRequest, EscalationWriter
from bot.notify import UrgentNotifier
from bot.reply import ANSWER, ERROR, FALLBACK, HANDOFF, REPLY_METADATA_KEY, SMALLTALK, URGENT

__all__ = ["ANSWER", "ERROR", "FALLBACK", "HANDOFF", "SMALLTALK", "URGENT"]


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def messages() -> Messages:
    return Messages.load(settings().content_dir)


@lru_cache(maxsize=1)
def escalation_writer() -> EscalationWriter:
    config = settings()
    notifier = (
        UrgentNotifier(config.urgent_webhook_url, config.public_url)
        if config.urgent_webhook_url
        else None
    )
    return EscalationWriter(config.database_url, config.spool_dir, notifier)


def reply(
    dispatcher: CollectingDispatcher,
    text: str,
    kind: str,
    buttons: list[dict[str, str]] | None = None,
    **metadata: Any,
) -> None:
    """Sends one bot message with its reply metadata (see ``bot.channels``)."""
    dispatcher.utter_message(
        text=text, buttons=buttons or [], **{REPLY_METADATA_KEY: {"kind": kind, **metadata}}
    )


def latest_intent(tracker: Tracker) -> dict[str, Any]:
    return tracker.latest_message.get("intent") or {}


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """Patient and bot turns of the conversation so far, with what the bot understood."""
    turns: list[dict[str, Any]] = []
    for event in tracker.events:
        if event.get("event") == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            turns.append(
                {
                    "who": "patient",
                    "text": event.get("text"),
                    "intent": intent.get("name"),
                    "confidence": intent.get("confidence"),
                    "safety": parse.get("safety"),
                    "timestamp": event.get("timestamp"),
                }
            )
        elif event.get("event") == "bot":
            meta = (event.get("metadata") or {}).get(REPLY_METADATA_KEY) or {}
            turns.append(
                {
                    "who": "bot",
                    "text": event.get("text"),
                    "kind": meta.get("kind"),
                    "answer_id": meta.get("answer_id"),
                    "timestamp": event.get("timestamp"),
                }
            )
    return turns


def escalation_request(
    tracker: Tracker, reason: str, priority: str, dedup_suffix: str = ""
) -> EscalationRequest:
    """An escalation for the latest patient message; retries of it share one dedup key."""
    # The widget's own id for the message, when it sent one: a resend after a lost reply is
    # processed again by Rasa but must not open a second escalation.
    client_id = (tracker.latest_message.get("metadata") or {}).get("client_id")
    message_id = (
        f"client-{client_id}"
        if isinstance(client_id, str) and client_id
        else tracker.latest_message.get("message_id") or str(len(tracker.events))
    )
    safety = tracker.latest_message.get("safety") or {}
    return EscalationRequest(
        dedup_key=f"{tracker.sender_id}:{message_id}{dedup_suffix}"[:100],
        conversation_id=tracker.sender_id,
        reason=reason,
        priority=priority,
        trigger_intent=latest_intent(tracker).get("name"),
        matched_rule=safety.get("rule") if safety.get("fired") else None,
        transcript=transcript(tracker),
    )
