"""What staff do with escalations: the queue, a case with its transcript, claim, note,
resolve, reopen — each recorded in the append-only audit log — and the overview figures."""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, inspect, select, text
from sqlalchemy.orm import Session

from bot.db.models import (
    OUTCOMES,
    PRIORITY_URGENT,
    STATUS_CLAIMED,
    STATUS_OPEN,
    STATUS_RESOLVED,
    AuditEntry,
    Escalation,
    EscalationNote,
    StaffUser,
    utcnow,
)

MAX_NOTE_LENGTH = 5000


class CaseError(ValueError):
    """An action that does not fit the escalation's state; the message says why."""


def audit(
    session: Session,
    user: StaffUser | None,
    action: str,
    escalation_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            at=utcnow(),
            user_id=user.id if user else None,
            username=user.username if user else detail.pop("username", None),
            action=action,
            escalation_id=escalation_id,
            detail=detail or None,
        )
    )


@dataclass
class QueueFilter:
    status: str | None = None  # None: open and claimed
    priority: str | None = None
    reason: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def queue(session: Session, flt: QueueFilter, limit: int = 200) -> list[Escalation]:
    """Escalations, urgent first, then oldest first."""
    query = select(Escalation)
    if flt.status:
        query = query.where(Escalation.status == flt.status)
    else:
        query = query.where(Escalation.status.in_([STATUS_OPEN, STATUS_CLAIMED]))
    if flt.priority:
        query = query.where(Escalation.priority == flt.priority)
    if flt.reason:
        query = query.where(Escalation.reason == flt.reason)
    if flt.since:
        query = query.where(Escalation.created_at >= dt.datetime.combine(flt.since, dt.time()))
    if flt.until:
        end = dt.datetime.combine(flt.until + dt.timedelta(days=1), dt.time())
        query = query.where(Escalation.created_at < end)
    query = query.order_by(
        case((Escalation.priority == PRIORITY_URGENT, 0), else_=1), Escalation.created_at
    ).limit(limit)
    return list(session.scalars(query))


def open_urgent_count(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.priority == PRIORITY_URGENT, Escalation.status != STATUS_RESOLVED)
    )


def get_case(session: Session, escalation_id: int, user: StaffUser) -> Escalation:
    """The escalation, recording that ``user`` viewed it."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise LookupError(escalation_id)
    audit(session, user, "view", escalation_id)
    return escalation


def claim(session: Session, escalation: Escalation, user: StaffUser) -> None:
    if escalation.status == STATUS_RESOLVED:
        raise CaseError("a resolved escalation must be reopened before it is claimed")
    escalation.status = STATUS_CLAIMED
    escalation.claimed_by_id = user.id
    escalation.claimed_at = utcnow()
    audit(session, user, "claim", escalation.id)


def add_note(session: Session, escalation: Escalation, user: StaffUser, note: str) -> None:
    note = note.strip()
    if not note:
        raise CaseError("a note cannot be empty")
    if len(note) > MAX_NOTE_LENGTH:
        raise CaseError(f"notes are at most {MAX_NOTE_LENGTH} characters")
    session.add(EscalationNote(escalation_id=escalation.id, author_id=user.id, text=note))
    audit(session, user, "note", escalation.id, length=len(note))


def resolve(session: Session, escalation: Escalation, user: StaffUser, outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise CaseError("choose an outcome")
    if escalation.status == STATUS_RESOLVED:
        raise CaseError("already resolved")
    escalation.status = STATUS_RESOLVED
    escalation.outcome = outcome
    escalation.resolved_by_id = user.id
    escalation.resolved_at = utcnow()
    audit(session, user, "resolve", escalation.id, outcome=outcome)


def reopen(session: Session, escalation: Escalation, user: StaffUser) -> None:
    if escalation.status != STATUS_RESOLVED:
        raise CaseError("only a resolved escalation can be reopened")
    escalation.status = STATUS_OPEN
    escalation.outcome = None
    escalation.resolved_at = None
    escalation.resolved_by_id = None
    audit(session, user, "reopen", escalation.id)


# --- transcript ---------------------------------------------------------------------------
@dataclass
class Turn:
    who: str  # patient | bot
    text: str
    at: dt.datetime | None = None
    intent: str | None = None
    confidence: float | None = None
    kind: str | None = None
    safety_rule: str | None = None
    staff_name: str | None = None  # a staff reply (kind "staff"): who wrote it


def transcript(
    session: Session, escalation: Escalation, button_titles: dict[str, str] | None = None
) -> list[Turn]:
    """The whole conversation from Rasa's tracker store, or the escalation's snapshot if the
    tracker store is elsewhere. A pressed button shows as its title (``button_titles``: payload
    without the slash -> title); the widget's opening "/greet" is left out."""
    rows = []
    # The tracker store may live in another database (or not exist yet in tests).
    if "events" in inspect(session.get_bind()).get_table_names():
        rows = session.execute(
            text(
                "SELECT type_name, timestamp, data FROM events "
                "WHERE sender_id = :sender AND type_name IN ('user', 'bot') "
                "ORDER BY timestamp, id"
            ),
            {"sender": escalation.conversation_id},
        ).all()
    if not rows:
        turns = [_turn_from_snapshot(t) for t in escalation.transcript]
    else:
        turns = [_turn_from_event(type_name, ts, data) for type_name, ts, data in rows]
    return [t for t in (_button_title(t, button_titles or {}) for t in turns) if t is not None]


def _button_title(turn: Turn, titles: dict[str, str]) -> Turn | None:
    if turn.who != "patient" or not turn.text.startswith("/"):
        return turn
    if turn.text == "/greet":
        return None
    title = titles.get(turn.text[1:])
    turn.text = f"[pressed] {title}" if title else turn.text
    return turn


def _turn_from_event(type_name: str, timestamp: float, data: str) -> Turn:
    event = json.loads(data)
    at = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)
    if type_name == "user":
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        safety = parse.get("safety") or {}
        return Turn(
            "patient",
            event.get("text") or "",
            at,
            intent.get("name"),
            intent.get("confidence"),
            safety_rule=describe_safety(safety),
        )
    meta = (event.get("metadata") or {}).get("reply_metadata") or {}
    return Turn(
        "bot", event.get("text") or "", at, kind=meta.get("kind"), staff_name=meta.get("staff_name")
    )


def _turn_from_snapshot(turn: dict) -> Turn:
    at = (
        dt.datetime.fromtimestamp(turn["timestamp"], dt.timezone.utc).replace(tzinfo=None)
        if turn.get("timestamp")
        else None
    )
    safety = turn.get("safety") or {}
    return Turn(
        turn.get("who", "patient"),
        turn.get("text") or "",
        at,
        turn.get("intent"),
        turn.get("confidence"),
        turn.get("kind"),
        describe_safety(safety),
    )


def describe_safety(safety: dict) -> str | None:
    """What staff read about the safety decision on a patient turn: which check fired (rules,
    the learned check, the language check), on which clause, in which language."""
    if not safety.get("fired"):
        return None
    parts = [str(safety.get("rule") or "?")]
    if safety.get("source"):
        parts.append(f"by {safety['source']}")
    if safety.get("clause"):
        parts.append(f"on \u201c{safety['clause']}\u201d")
    if safety.get("language") and safety["language"] != "en":
        parts.append(f"language {safety['language']}")
    return ", ".join(parts)


_PHONE = re.compile(r"(?<!\d)(\+?\d[\d ().-]{7,}\d)(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def contact_details(turns: list[Turn]) -> dict[str, list[str]]:
    """Phone numbers and e-mail addresses the patient wrote, for a call back."""
    patient = " ".join(t.text for t in turns if t.who == "patient")
    return {
        "phones": sorted(set(m.strip() for m in _PHONE.findall(patient))),
        "emails": sorted(set(_EMAIL.findall(patient))),
    }


# --- overview -----------------------------------------------------------------------------
@dataclass
class Overview:
    per_day: list[tuple[dt.date, int]] = field(default_factory=list)
    by_reason: list[tuple[str, int]] = field(default_factory=list)
    median_hours_to_resolve: float | None = None
    resolved: int = 0
    top_questions: list[tuple[str, int]] = field(default_factory=list)


def overview(session: Session, days: int = 14, today: dt.date | None = None) -> Overview:
    today = today or utcnow().date()
    start = today - dt.timedelta(days=days - 1)
    rows = list(
        session.scalars(
            select(Escalation).where(Escalation.created_at >= dt.datetime.combine(start, dt.time()))
        )
    )
    per_day = Counter(r.created_at.date() for r in rows)
    durations = [
        (r.resolved_at - r.created_at).total_seconds() / 3600
        for r in rows
        if r.resolved_at is not None
    ]
    questions = Counter()
    for row in rows:
        asked = [
            t.get("text") for t in row.transcript if t.get("who") == "patient" and t.get("text")
        ]
        if asked:
            questions[" ".join(asked[-1].lower().split())[:120]] += 1
    return Overview(
        per_day=[
            (start + dt.timedelta(days=i), per_day.get(start + dt.timedelta(days=i), 0))
            for i in range(days)
        ],
        by_reason=Counter(r.reason for r in rows).most_common(),
        median_hours_to_resolve=round(statistics.median(durations), 2) if durations else None,
        resolved=len(durations),
        top_questions=questions.most_common(10),
    )
