"""Loading vetted answers, checking them against the guide, and syncing them into the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Answer
from bot.intents import ANSWERED_INTENTS

APPROVED = "approved"
# Reviewer names starting with this are placeholders: nobody has signed the answer yet.
PLACEHOLDER = "PLACEHOLDER"
ANSWER_STATUSES = {APPROVED, "superseded", "draft"}
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Collapse whitespace so line wrapping in YAML or the guide does not matter."""
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Guide:
    """The clinic's patient guide, the only source of medical statements."""

    text: str

    @classmethod
    def load(cls, path: Path) -> Guide:
        return cls(path.read_text(encoding="utf-8"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def contains(self, quote: str) -> bool:
        return normalise(quote) in normalise(self.text)


@dataclass(frozen=True)
class AnswerSpec:
    """One answer version as written in ``answers.yml``."""

    answer_id: str
    intent: str
    version: int
    status: str
    text: str
    quotes: tuple[str, ...]
    section: str
    reviewer: str
    reviewed_on: dt.date


def is_signed(reviewer: str | None) -> bool:
    """Whether a real person signed the answer off (not empty, not a placeholder)."""
    return bool(reviewer and reviewer.strip()) and not reviewer.strip().upper().startswith(
        PLACEHOLDER
    )


def unsigned_answers(specs: list[AnswerSpec]) -> list[str]:
    """The ids of approved answers no clinical reviewer has signed yet."""
    return sorted(s.answer_id for s in specs if s.status == APPROVED and not is_signed(s.reviewer))


def load_answer_specs(path: Path) -> list[AnswerSpec]:
    """Parse ``answers.yml``; raises ``ValueError`` naming the entry on a malformed one."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    specs = []
    for index, entry in enumerate(raw.get("answers") or []):
        try:
            reviewed_on = entry["reviewed_on"]
            if isinstance(reviewed_on, str):
                reviewed_on = dt.date.fromisoformat(reviewed_on)
            specs.append(
                AnswerSpec(
                    answer_id=str(entry["id"]),
                    intent=str(entry["intent"]),
                    version=int(entry["version"]),
                    status=str(entry["status"]),
                    text=normalise(str(entry["text"])),
                    quotes=tuple(normalise(str(q)) for q in entry["quotes"]),
                    section=str(entry["section"]),
                    reviewer=str(entry["reviewer"]),
                    reviewed_on=reviewed_on,
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: answer #{index + 1} is malformed: {error!r}") from error
    return specs


def check_answer_specs(specs: list[AnswerSpec], guide: Guide) -> list[str]:
    """Every problem that must stop the content from loading, as readable sentences."""
    problems = []
    seen = set()
    for spec in specs:
        key = (spec.answer_id, spec.version)
        if key in seen:
            problems.append(f"{spec.answer_id} v{spec.version} appears twice")
        seen.add(key)
        if spec.status not in ANSWER_STATUSES:
            problems.append(f"{spec.answer_id} v{spec.version}: unknown status {spec.status!r}")
        if not spec.quotes:
            problems.append(f"{spec.answer_id} v{spec.version}: no guide quote")
        for quote in spec.quotes:
            if not guide.contains(quote):
                problems.append(
                    f"{spec.answer_id} v{spec.version}: quote not verbatim in guide: {quote[:60]!r}"
                )
    approved = [s for s in specs if s.status == APPROVED]
    for intent in sorted(ANSWERED_INTENTS):
        count = sum(1 for s in approved if s.intent == intent)
        if count != 1:
            problems.append(f"intent {intent} has {count} approved answers, needs exactly 1")
    for spec in approved:
        if spec.intent not in ANSWERED_INTENTS:
            problems.append(f"{spec.answer_id}: {spec.intent} is not an FAQ intent")
    return problems


def sync_answers(session: Session, specs: list[AnswerSpec], guide: Guide) -> int:
    """Insert new answer versions and update statuses; returns how many rows changed.

    Raises:
        ValueError: if the content does not pass :func:`check_answer_specs`.
    """
    problems = check_answer_specs(specs, guide)
    if problems:
        raise ValueError("content check failed:\n- " + "\n- ".join(problems))
    existing = {(a.answer_id, a.version): a for a in session.scalars(select(Answer))}
    edited = [
        f"{s.answer_id} v{s.version}"
        for s in specs
        if (row := existing.get((s.answer_id, s.version))) is not None
        and (row.text, tuple(row.quotes), row.intent) != (s.text, s.quotes, s.intent)
    ]
    if edited:
        # A published version is what some patient was shown: changes get a new version.
        raise ValueError(
            "answer text changed without a new version (add version + 1): " + ", ".join(edited)
        )
    changed = 0
    for spec in specs:
        row = existing.get((spec.answer_id, spec.version))
        if row is None:
            row = Answer(answer_id=spec.answer_id, version=spec.version)
            session.add(row)
        elif row.status == spec.status:
            continue
        row.intent = spec.intent
        row.status = spec.status
        row.text = spec.text
        row.quotes = list(spec.quotes)
        row.section = spec.section
        row.reviewer = spec.reviewer
        row.reviewed_on = spec.reviewed_on
        row.guide_sha256 = guide.sha256
        changed += 1
    return changed


def approved_answer(session: Session, intent: str) -> Answer | None:
    """The current approved answer for ``intent``, or None."""
    return session.scalars(
        select(Answer)
        .where(Answer.intent == intent, Answer.status == APPROVED)
        .order_by(Answer.version.desc())
        .limit(1)
    ).first()
