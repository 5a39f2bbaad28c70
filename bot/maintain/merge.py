"""Adding annotated inbox questions to the training data, keeping where each came from.

Merged examples go to ``data/nlu/from_patients.yml`` in Rasa's per-example metadata format, so
each keeps its inbox id and dates. Examples already in the training data or in the team's
held-out file are skipped: the held-out file must stay unseen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import HELDOUT_PATH
from bot.db.models import InboxItem, utcnow
from bot.intents import ALL_INTENTS
from bot.maintain.inbox import text_key

MERGED_FILE = Path("data") / "nlu" / "from_patients.yml"
HELDOUT_FILE = HELDOUT_PATH


@dataclass
class MergeResult:
    added: list[tuple[str, str]] = field(default_factory=list)  # (intent, message)
    duplicates: list[str] = field(default_factory=list)
    heldout: list[str] = field(default_factory=list)
    new_topics: list[str] = field(default_factory=list)
    discarded: int = 0


def _examples(path: Path) -> set[str]:
    """Normalised texts of every example in a Rasa NLU file (both example formats)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    keys = set()
    for block in doc.get("nlu") or []:
        examples = block.get("examples") or []
        if isinstance(examples, str):
            texts = [
                line.strip()[2:] for line in examples.splitlines() if line.strip().startswith("- ")
            ]
        else:
            texts = [str(e.get("text", "")).strip() for e in examples]
        keys |= {text_key(t) for t in texts}
    return keys


def apply_annotations(session: Session, annotation_file: Path, by: str) -> int:
    """Copies decisions from an edited annotation file into the inbox; returns how many."""
    from bot.maintain.inbox import decide

    doc = yaml.safe_load(annotation_file.read_text(encoding="utf-8")) or {}
    count = 0
    for entry in doc.get("items") or []:
        item = session.get(InboxItem, entry.get("id"))
        if item is None or item.merged_at is not None:
            continue
        if entry.get("intent"):
            decide(session, item, "intent", entry["intent"], by)
        elif entry.get("decision") in ("new_topic", "discard"):
            decide(session, item, entry["decision"], None, by)
        else:
            continue
        count += 1
    return count


def merge(session: Session, root: Path) -> MergeResult:
    """Adds every decided, not yet merged inbox item to ``root``'s training data."""
    known = set()
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        known |= _examples(path)
    heldout = _examples(root / HELDOUT_FILE) if (root / HELDOUT_FILE).exists() else set()
    target = root / MERGED_FILE
    doc = (yaml.safe_load(target.read_text(encoding="utf-8")) if target.exists() else None) or {
        "version": "3.1",
        "nlu": [],
    }
    blocks = {block["intent"]: block for block in doc["nlu"]}
    result = MergeResult()
    items = session.scalars(
        select(InboxItem).where(InboxItem.decision.is_not(None), InboxItem.merged_at.is_(None))
    ).all()
    now = utcnow()
    for item in items:
        if item.decision == "discard":
            result.discarded += 1
            item.merged_at = now
            continue
        if item.decision == "new_topic":
            result.new_topics.append(item.message)  # needs a new intent and answer first
            continue
        if item.decided_intent not in ALL_INTENTS:
            continue
        key = text_key(item.message)
        if key in heldout:
            result.heldout.append(item.message)
        elif key in known:
            result.duplicates.append(item.message)
        else:
            block = blocks.setdefault(
                item.decided_intent, {"intent": item.decided_intent, "examples": []}
            )
            block["examples"].append(
                {
                    "text": item.message,
                    "metadata": {
                        "source": "patient inbox",
                        "inbox_id": item.id,
                        "first_seen": item.first_seen.date().isoformat(),
                        "annotated_by": item.decided_by,
                        "merged_on": dt.date.today().isoformat(),
                    },
                }
            )
            known.add(key)
            result.added.append((item.decided_intent, item.message))
        item.merged_at = now
    doc["nlu"] = [blocks[name] for name in sorted(blocks)]
    if result.added:
        target.parent.mkdir(parents=True, exist_ok=True)
        header = (
            "# Patient questions the assistant missed, annotated by maintainers and merged by\n"
            "# `bot maintain merge` (redacted; each example records its inbox item).\n"
        )
        target.write_text(
            header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    return result
