"""The handoff loop on an escalation: how the patient wants to hear back, their contact details
(only with consent), and whether a person is replying in the chat (human mode).

Contact details are patient data: they are never logged (callers log the escalation id only)
and the retention purge deletes them with the conversation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import STATUS_RESOLVED, Escalation, utcnow
from bot.db.session import session_scope

CONTACT_METHODS = ("chat", "phone", "email", "none")


@dataclass(frozen=True)
class ContactDetails:
    """What the patient agreed to give; ``phone``/``email`` already normalised."""

    method: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        if self.method not in CONTACT_METHODS:
            raise ValueError(f"unknown contact method {self.method!r}")
        if self.method == "phone" and not self.phone:
            raise ValueError("a call back needs a phone number")
        if self.method == "email" and not self.email:
            raise ValueError("an e-mail reply needs an address")


def record_contact(database_url: str, escalation_id: int, details: ContactDetails) -> bool:
    """Stores the patient's choice on the escalation; False when it no longer exists.

    A later choice replaces an earlier one (a patient who first said "no thanks" may still
    leave a number), and choosing the chat or no contact removes details given before."""
    with session_scope(database_url) as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            return False
        escalation.contact_method = details.method
        escalation.contact_name = details.name
        escalation.contact_phone = details.phone if details.method == "phone" else None
        escalation.contact_email = details.email if details.method == "email" else None
        escalation.contact_consent_at = utcnow() if details.method in ("phone", "email") else None
        return True


def latest_open_escalation(session: Session, conversation_id: str) -> Escalation | None:
    """The newest escalation of a conversation that is not resolved."""
    return session.scalars(
        select(Escalation)
        .where(
            Escalation.conversation_id == conversation_id,
            Escalation.status != STATUS_RESOLVED,
        )
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        .limit(1)
    ).first()


def record_patient_message(
    database_url: str, conversation_id: str, escalation_id: int | None = None
) -> int | None:
    """Marks that the patient wrote while a person is replying, on the escalation the person
    took over (``escalation_id``, else the conversation's newest open one); its id, if any."""
    with session_scope(database_url) as session:
        escalation = session.get(Escalation, escalation_id) if escalation_id is not None else None
        if escalation is None or escalation.conversation_id != conversation_id:
            escalation = latest_open_escalation(session, conversation_id)
        if escalation is None:
            return None
        escalation.patient_last_message_at = utcnow()
        return escalation.id


def set_human_mode(session: Session, escalation: Escalation, on: bool) -> None:
    escalation.human_mode_since = utcnow() if on else None


def human_mode_expired(
    since: dt.datetime | float | None, timeout: dt.timedelta, now: dt.datetime
) -> bool:
    """Whether a person's last word (a datetime, or epoch seconds) is older than ``timeout``."""
    if since is None:
        return False
    if not isinstance(since, dt.datetime):
        since = dt.datetime.fromtimestamp(float(since), dt.timezone.utc)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.timezone.utc)
    return now - since > timeout
