"""Collecting the questions the assistant missed from the tracker store, redacted and grouped.

A patient message joins the inbox when the model fell back, was unsure (low confidence or two
close intents), when the conversation was handed to staff at that message, or when staff flagged
the conversation for training. Personal data is removed before anything leaves the database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.cases.escalations import message_dedup_key
from bot.db.models import Escalation, InboxItem, utcnow
from bot.intents import NLU_FALLBACK
from bot.maintain.redact import Redactor

LOW_CONFIDENCE = 0.5
CLOSE_MARGIN = 0.1
NEAR_DUPLICATE = 0.85  # Jaccard similarity of word sets above which two messages are one


def text_key(message: str) -> str:
    """Letters and digits of any script, case-folded: the same question written again."""
    return " ".join(re.sub(r"[^\w<> ]+|_", " ", message.casefold()).split())[:300]


def _similar(a: str, b: str) -> bool:
    words_a, words_b = set(a.split()), set(b.split())
    if not words_a or not words_b:
        return False
    return len(words_a & words_b) / len(words_a | words_b) >= NEAR_DUPLICATE


@dataclass
class Candidate:
    message: str  # redacted
    key: str
    suggested_intent: str | None
    confidence: float | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int = 1
    sources: set[str] = field(default_factory=set)


def _reasons(parse: dict, message_key: str, handed_off: set[str], flagged: bool) -> set[str]:
    reasons = set()
    intent = parse.get("intent") or {}
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != NLU_FALLBACK]
    safety = parse.get("safety") or {}
    if intent.get("name") == NLU_FALLBACK:
        reasons.add("fallback")
    if not safety.get("fired"):
        if (intent.get("confidence") or 0) < LOW_CONFIDENCE:
            reasons.add("low_confidence")
        if len(ranking) > 1 and ranking[0]["confidence"] - ranking[1]["confidence"] < CLOSE_MARGIN:
            reasons.add("ambiguous")
    if message_key in handed_off:
        reasons.add("handoff")
    if flagged:
        reasons.add("flagged")
    return reasons


def collect(
    session: Session, redactor: Redactor | None = None, progress: bool = False
) -> list[Candidate]:
    """Missed questions from the tracker store, redacted and de-duplicated."""
    if "events" not in inspect(session.get_bind()).get_table_names():
        return []
    redactor = redactor or Redactor()
    escalations = session.execute(
        select(Escalation.dedup_key, Escalation.conversation_id, Escalation.flagged_for_training)
    ).all()
    handed_off = {key for key, _, _ in escalations}
    flagged = {conversation for _, conversation, is_flagged in escalations if is_flagged}
    rows = session.execute(
        text("SELECT sender_id, timestamp, data FROM events WHERE type_name = 'user' ORDER BY id")
    ).all()
    groups: list[Candidate] = []
    by_key: dict[str, Candidate] = {}
    for sender, timestamp, data in tqdm(rows, desc="reading conversations", disable=not progress):
        event = json.loads(data)
        raw = (event.get("text") or "").strip()
        if not raw or raw.startswith("/"):  # button presses are not patient wording
            continue
        parse = event.get("parse_data") or {}
        own_id = parse.get("message_id") or event.get("message_id") or ""
        message_key = message_dedup_key(
            sender, {"metadata": event.get("metadata"), "message_id": own_id}
        )
        reasons = _reasons(parse, message_key, handed_off, sender in flagged)
        if not reasons:
            continue
        message = redactor.redact(raw)
        key = text_key(message)
        seen = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)
        group = by_key.get(key) or next((g for g in groups if _similar(g.key, key)), None)
        if group is None:
            intent = parse.get("intent") or {}
            ranking = [
                r for r in parse.get("intent_ranking") or [] if r.get("name") != NLU_FALLBACK
            ]
            suggestion = ranking[0] if ranking else intent
            group = Candidate(
                message,
                key,
                suggestion.get("name"),
                suggestion.get("confidence"),
                seen,
                seen,
                0,
                set(),
            )
            groups.append(group)
        by_key[key] = group
        group.count += 1
        group.sources |= reasons
        group.first_seen, group.last_seen = min(group.first_seen, seen), max(group.last_seen, seen)
    return groups


def refresh(session: Session, candidates: list[Candidate]) -> int:
    """Stores the candidates as inbox items (decisions already made are kept); returns new ones."""
    existing = {item.text_key: item for item in session.scalars(select(InboxItem))}
    new = 0
    for c in candidates:
        item = existing.get(c.key)
        if item is None:
            item = InboxItem(text_key=c.key, message=c.message, first_seen=c.first_seen)
            session.add(item)
            new += 1
        item.suggested_intent, item.confidence = c.suggested_intent, c.confidence
        item.count, item.last_seen = c.count, c.last_seen
        item.first_seen = min(item.first_seen, c.first_seen)
        item.sources = sorted(c.sources)
    return new


def export(session: Session, path: Path) -> int:
    """Writes the annotation file maintainers edit (or the console's Inbox page fills in)."""
    items = session.scalars(
        select(InboxItem).where(InboxItem.merged_at.is_(None)).order_by(InboxItem.count.desc())
    ).all()
    doc = {
        "# how to annotate": (
            "set `intent` to an existing intent, or `decision: new_topic` or `decision: discard`;"
            " then run `bot maintain merge`"
        ),
        "items": [
            {
                "id": item.id,
                "message": item.message,
                "suggested_intent": item.suggested_intent,
                "confidence": round(item.confidence, 3) if item.confidence is not None else None,
                "count": item.count,
                "first_seen": item.first_seen.isoformat(timespec="seconds"),
                "last_seen": item.last_seen.isoformat(timespec="seconds"),
                "sources": list(item.sources),
                "decision": item.decision,
                "intent": item.decided_intent,
            }
            for item in items
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return len(items)


def decide(session: Session, item: InboxItem, decision: str, intent: str | None, by: str) -> None:
    """Records a maintainer's decision: an intent, a new topic, or discard."""
    from bot.intents import ALL_INTENTS

    if decision == "intent" and intent not in ALL_INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    if decision not in ("intent", "new_topic", "discard"):
        raise ValueError(f"unknown decision {decision!r}")
    item.decision = decision
    item.decided_intent = intent if decision == "intent" else None
    item.decided_by = by
    item.decided_at = utcnow()
