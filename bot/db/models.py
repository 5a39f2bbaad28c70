"""SQLAlchemy models of the bot's own tables (Rasa's tracker store keeps its own ``events``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

PRIORITY_URGENT = "urgent"
PRIORITY_NORMAL = "normal"
STATUS_OPEN = "open"
STATUS_CLAIMED = "claimed"
STATUS_RESOLVED = "resolved"
ESCALATION_STATUSES = (STATUS_OPEN, STATUS_CLAIMED, STATUS_RESOLVED)
OUTCOMES = {
    "called_patient": "Called the patient",
    "answered_by_message": "Answered by message",
    "referred_to_emergency": "Referred to emergency care",
    "no_action_needed": "No action needed",
}
ROLE_STAFF = "staff"
ROLE_ADMIN = "admin"
ROLES = (ROLE_STAFF, ROLE_ADMIN)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Answer(Base):
    """One version of a vetted answer. Exactly one version per intent is ``approved``."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("answer_id", "version", name="uq_answer_version"),)

    pk = Column(Integer, primary_key=True)
    answer_id = Column(String(64), nullable=False)
    version = Column(Integer, nullable=False)
    intent = Column(String(64), nullable=False, index=True)
    status = Column(String(16), nullable=False)  # approved | superseded | draft
    text = Column(Text, nullable=False)
    quotes = Column(JSON, nullable=False)  # verbatim passages of the guide
    section = Column(String(200), nullable=False)
    reviewer = Column(String(200), nullable=False)
    reviewed_on = Column(Date, nullable=False)
    # Which guide text the quotes were checked against.
    guide_sha256 = Column(String(64), nullable=False)
    loaded_at = Column(DateTime, nullable=False, default=utcnow)


class Escalation(Base):
    """A conversation handed to staff: clinical, requested, admin, repeated fallback or urgent."""

    __tablename__ = "escalations"
    __table_args__ = (
        # A retried urgent write must not create a second row: the action's event id is unique.
        UniqueConstraint("dedup_key", name="uq_escalation_dedup_key"),
        Index("ix_escalations_queue", "status", "priority", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    dedup_key = Column(String(100), nullable=False)
    conversation_id = Column(String(255), nullable=False, index=True)
    # urgent | clinical | requested | admin | fallback | language
    reason = Column(String(32), nullable=False)
    priority = Column(String(16), nullable=False)  # urgent | normal
    status = Column(String(16), nullable=False, default=STATUS_OPEN)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    trigger_intent = Column(String(64))
    matched_rule = Column(String(200))  # the safety rule that fired, if any
    transcript = Column(JSON, nullable=False)  # user and bot turns so far, with intents
    claimed_by_id = Column(Integer, ForeignKey("staff_users.id"))
    claimed_at = Column(DateTime)
    resolved_by_id = Column(Integer, ForeignKey("staff_users.id"))
    resolved_at = Column(DateTime)
    outcome = Column(String(32))
    flagged_for_training = Column(Boolean, nullable=False, default=False)
    # How the patient chose to hear back (chat | phone | email | none) and, only with their
    # consent, how to reach them: never logged, purged with the conversation.
    contact_method = Column(String(16))
    contact_name = Column(String(80))
    contact_phone = Column(String(40))
    contact_email = Column(String(320))
    contact_consent_at = Column(DateTime)
    # Set while a person replies in the chat (the assistant stays quiet but safety still runs).
    human_mode_since = Column(DateTime)
    patient_last_message_at = Column(DateTime)

    claimed_by = relationship("StaffUser", foreign_keys=[claimed_by_id])
    resolved_by = relationship("StaffUser", foreign_keys=[resolved_by_id])
    notes = relationship("EscalationNote", order_by="EscalationNote.created_at")


class StaffUser(Base):
    """A clinic staff account, created with ``bot staff create-user``."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default=ROLE_STAFF)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime)
    last_login_at = Column(DateTime)


class EscalationNote(Base):
    """A staff note on an escalation; never edited."""

    __tablename__ = "escalation_notes"

    id = Column(Integer, primary_key=True)
    escalation_id = Column(Integer, ForeignKey("escalations.id"), nullable=False, index=True)
    author_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    author = relationship("StaffUser")


class AuditEntry(Base):
    """Who viewed or changed what, when. Append-only: updates and deletes are refused."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    user_id = Column(Integer, ForeignKey("staff_users.id"))
    username = Column(String(64))  # kept as written, even if the account changes later
    action = Column(String(32), nullable=False)
    escalation_id = Column(Integer, ForeignKey("escalations.id"), index=True)
    detail = Column(JSON)


class InboxItem(Base):
    """A patient question the assistant missed, redacted, waiting for a maintainer's decision."""

    __tablename__ = "inbox_items"

    id = Column(Integer, primary_key=True)
    text_key = Column(String(300), nullable=False, unique=True)  # normalised, for de-duplication
    message = Column(Text, nullable=False)  # redacted: no personal data
    suggested_intent = Column(String(64))
    confidence = Column(Float)
    count = Column(Integer, nullable=False, default=1)
    first_seen = Column(DateTime, nullable=False)
    last_seen = Column(DateTime, nullable=False)
    sources = Column(
        JSON, nullable=False
    )  # fallback | low_confidence | ambiguous | handoff | flagged
    decision = Column(String(16))  # None | intent | new_topic | discard
    decided_intent = Column(String(64))
    decided_by = Column(String(64))
    decided_at = Column(DateTime)
    merged_at = Column(DateTime)


class ModelVersion(Base):
    """A trained model: its data, its figures, and whether and by whom it was promoted."""

    __tablename__ = "model_versions"

    id = Column(Integer, primary_key=True)
    file = Column(String(500), nullable=False, unique=True)
    data_hash = Column(String(64), nullable=False)
    status = Column(String(16), nullable=False)  # candidate | active | retired | refused
    metrics = Column(JSON)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    promoted_at = Column(DateTime)
    promoted_by = Column(String(64))
    forced_reason = Column(Text)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised on any attempt to change or delete an audit entry."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_changes(_mapper, _connection, target) -> None:  # noqa: ANN001
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed or deleted")


__all__ = [
    "Answer",
    "AuditEntry",
    "EscalationNote",
    "InboxItem",
    "ModelVersion",
    "StaffUser",
    "Base",
    "Escalation",
    "PRIORITY_NORMAL",
    "PRIORITY_URGENT",
    "STATUS_OPEN",
]
