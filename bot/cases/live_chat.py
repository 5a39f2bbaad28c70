"""A staff member in the patient's chat: replies, human mode on and off.

Everything goes into the patient's conversation through Rasa's HTTP API (the tracker store
holds the one copy): a staff reply is a bot utterance marked ``kind: staff`` with the staff
member's first name; human mode is the ``human_mode`` slot the rules in
``data/rules/human_mode.yml`` read. Staff text is the clinic's own message, not vetted content:
the widget renders it as text. The audit log records that a reply was sent, not its words.
"""

from __future__ import annotations

import re
import time
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.cases.casework import CaseError, audit
from bot.cases.patient_contact import set_human_mode
from bot.content.messages import Messages
from bot.db.models import STATUS_CLAIMED, Escalation, StaffUser
from bot.reply import HUMAN, REPLY_METADATA_KEY, STAFF

MAX_REPLY_LENGTH = 2000


class ConversationEvents(Protocol):
    """What this module needs of ``bot.web.rasa_client.RasaClient``."""

    def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None: ...


def first_name(user: StaffUser) -> str:
    """What the patient sees: "ann.lee" -> "Ann" (accounts have user names, not full names)."""
    first = re.split(r"[._\-\s@]+", user.username.strip())[0] or user.username
    return first[:1].upper() + first[1:]


def _bot_event(text: str, kind: str, **metadata: Any) -> dict[str, Any]:
    return {
        "event": "bot",
        "text": text,
        "data": {},
        "metadata": {REPLY_METADATA_KEY: {"kind": kind, **metadata}},
        "timestamp": time.time(),
    }


def _slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": time.time()}


def _check_claimed_by(escalation: Escalation, user: StaffUser) -> None:
    if escalation.status != STATUS_CLAIMED or escalation.claimed_by_id != user.id:
        # One voice per conversation: the person who claimed it (or whoever claims it next).
        raise CaseError("claim the escalation before you reply: only its owner replies")


def _joined_events(user: StaffUser, messages: Messages) -> list[dict[str, Any]]:
    name = first_name(user)
    return [
        _slot("human_mode", True),
        _slot("human_mode_at", time.time()),
        _bot_event(messages.text("human_joined", staff_name=name), HUMAN, staff_name=name),
    ]


def _mark_human_mode(session: Session, escalation: Escalation, user: StaffUser) -> None:
    set_human_mode(session, escalation, on=True)
    audit(session, user, "human_mode", escalation.id, on=True)


# Rasa is called before anything is written through ``session``: on SQLite, Rasa's tracker
# store shares the file and would wait for this session's write lock.
def start_human_mode(
    session: Session,
    rasa: ConversationEvents,
    escalation: Escalation,
    user: StaffUser,
    messages: Messages,
) -> None:
    """The assistant steps aside: the patient is told once that a person is replying."""
    _check_claimed_by(escalation, user)
    if escalation.human_mode_since is not None:
        return
    rasa.append_events(escalation.conversation_id, _joined_events(user, messages))
    _mark_human_mode(session, escalation, user)


def send_reply(
    session: Session,
    rasa: ConversationEvents,
    escalation: Escalation,
    user: StaffUser,
    text: str,
    messages: Messages,
) -> None:
    """Adds the reply to the patient's conversation (human mode starts with the first one)."""
    text = text.strip()
    if not text:
        raise CaseError("a reply cannot be empty")
    if len(text) > MAX_REPLY_LENGTH:
        raise CaseError(f"replies are at most {MAX_REPLY_LENGTH} characters")
    _check_claimed_by(escalation, user)
    joining = escalation.human_mode_since is None
    events = _joined_events(user, messages) if joining else []
    # The slot goes with every reply: a new Rasa session (an hour without the patient) would
    # otherwise have reset it, and the assistant would answer the patient's reply to staff.
    events += [
        _bot_event(text, STAFF, staff_name=first_name(user)),
        _slot("human_mode", True),
        _slot("human_mode_at", time.time()),
    ]
    rasa.append_events(escalation.conversation_id, events)
    if joining:
        _mark_human_mode(session, escalation, user)
    audit(session, user, "reply", escalation.id, length=len(text))


def end_human_mode(
    session: Session,
    rasa: ConversationEvents,
    escalation: Escalation,
    user: StaffUser,
    messages: Messages,
) -> bool:
    """Hands the conversation back to the assistant; False when it was not in human mode."""
    if escalation.human_mode_since is None:
        return False
    rasa.append_events(
        escalation.conversation_id,
        [
            _slot("human_mode", False),
            _slot("human_mode_at", None),
            _bot_event(messages.text("human_left"), HUMAN),
        ],
    )
    set_human_mode(session, escalation, on=False)
    audit(session, user, "human_mode", escalation.id, on=False)
    return True
