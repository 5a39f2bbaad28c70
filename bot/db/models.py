"""SQLAlchemy models of the bot's own tables (Rasa's tracker store keeps its own ``events``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

Base = declarative_base()

PRIORITY_URGENT = "urgent"
PRIORITY_NORMAL = "normal"
STATUS_OPEN = "open"


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
    reason = Column(String(32), nullable=False)  # urgent | clinical | requested | admin | fallback
    priority = Column(String(16), nullable=False)  # urgent | normal
    status = Column(String(16), nullable=False, default=STATUS_OPEN)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    trigger_intent = Column(String(64))
    matched_rule = Column(String(200))  # the safety rule that fired, if any
    transcript = Column(JSON, nullable=False)  # user and bot turns so far, with intents


__all__ = [
    "Answer",
    "Base",
    "Escalation",
    "PRIORITY_NORMAL",
    "PRIORITY_URGENT",
    "STATUS_OPEN",
]
