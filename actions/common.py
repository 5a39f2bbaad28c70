"""What every action shares: settings, content, the reply contract and escalation requests."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.cases.escalations import (
    EscalationRequest,
    EscalationWriter,
    request_for_latest_message,
)
from bot.cases.mailer import StaffMailer
from bot.config import Settings, load_settings
from bot.content.messages import Messages
from bot.reply import (
    ANSWER,
    CONTACT,
    ERROR,
    FALLBACK,
    HANDOFF,
    HUMAN,
    REPLY_METADATA_KEY,
    SMALLTALK,
    URGENT,
)

__all__ = ["ANSWER", "CONTACT", "ERROR", "FALLBACK", "HANDOFF", "HUMAN", "SMALLTALK", "URGENT"]


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def messages() -> Messages:
    return Messages.load(settings().content_dir)


def clock() -> dt.datetime:
    """Now, in UTC (tests replace it to try the opening hours)."""
    return dt.datetime.now(dt.timezone.utc)


@lru_cache(maxsize=1)
def escalation_writer() -> EscalationWriter:
    return EscalationWriter.from_settings(settings())


@lru_cache(maxsize=1)
def staff_mailer() -> StaffMailer | None:
    """The clinic inbox's notifier, or None when ``CLINIC_SMTP_URL`` is not set."""
    url = settings().smtp_url
    return StaffMailer.from_url(url, settings().public_url) if url else None


def reply(
    dispatcher: CollectingDispatcher,
    text: str,
    kind: str,
    buttons: list[dict[str, str]] | None = None,
    **metadata: Any,
) -> None:
    """Sends one bot message with its reply metadata (see ``bot.rasa_server.channels``)."""
    dispatcher.utter_message(
        text=text, buttons=buttons or [], **{REPLY_METADATA_KEY: {"kind": kind, **metadata}}
    )


def latest_intent(tracker: Tracker) -> dict[str, Any]:
    return tracker.latest_message.get("intent") or {}


def escalation_request(
    tracker: Tracker, reason: str, priority: str, dedup_suffix: str = ""
) -> EscalationRequest:
    """An escalation for the latest patient message; retries of it share one dedup key."""
    return request_for_latest_message(tracker.current_state(), reason, priority, dedup_suffix)
