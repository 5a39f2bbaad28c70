"""Scores FAQ understanding in conversation: single messages, the last turn of short
conversations (follow-ups that only make sense in context) and messages with two or three
questions. The model runs in this process with the Rasa server's contextual understanding
(``bot.rasa_server.understanding``), on trackers built turn by turn.

Sets: ``data/eval/faq/*.yml`` (development, written here, tuned on) and
``data/eval/sealed/faq_*.yml`` (sealed: written by helpers who never saw the training data;
figures only, never messages). Format: see ``data/eval/sealed/README.md``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT
from bot.intents import ADMIN_INTENTS, CLINICAL, FAQ_INTENTS, MORE_DETAIL

TOPICS = FAQ_INTENTS | ADMIN_INTENTS


def faq_development_sets(root: Path = PROJECT_ROOT) -> list[Path]:
    return sorted((root / "data" / "eval" / "faq").glob("*.yml"))


def faq_sealed_sets(root: Path = PROJECT_ROOT) -> list[Path]:
    return sorted((root / "data" / "eval" / "sealed").glob("faq_*.yml"))


@dataclass
class FaqScore:
    singles: list[tuple[str, str]] = field(default_factory=list)  # (expected, answered)
    conversations: list[tuple[str, str, str]] = field(default_factory=list)  # + kind
    two_questions: list[tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        topical = [(e, p) for e, p in self.singles if e in TOPICS]
        clinical = [(e, p) for e, p in self.singles if e == CLINICAL]
        labels = sorted(TOPICS)
        f1s = []
        for label in labels:
            tp = sum(1 for e, p in topical if e == p == label)
            fp = sum(1 for e, p in topical if p == label and e != label)
            fn = sum(1 for e, p in topical if e == label and p != label)
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        in_context = Counter(kind for _, _, kind in self.conversations)
        right_context = Counter(kind for e, p, kind in self.conversations if e == p)
        both = sum(1 for e, p in self.two_questions if set(e) <= set(p))
        in_order = sum(1 for e, p in self.two_questions if tuple(p[: len(e)]) == tuple(e))
        return {
            "single messages (FAQ and admin)": len(topical),
            "accuracy": _ratio(sum(e == p for e, p in topical), len(topical)),
            "macro-F1": round(sum(f1s) / len(f1s), 3) if topical else None,
            "clinical answered with an FAQ answer alone": sum(
                p in FAQ_INTENTS for _, p in clinical
            ),
            "clinical messages": len(clinical),
            "conversations": len(self.conversations),
            "last turn with the right topic": _ratio(
                sum(right_context.values()), len(self.conversations)
            ),
            "by kind": {
                kind: f"{right_context[kind]}/{count}" for kind, count in sorted(in_context.items())
            },
            "two-question messages": len(self.two_questions),
            "all topics answered": _ratio(both, len(self.two_questions)),
            "in the order asked": _ratio(in_order, len(self.two_questions)),
        }

    def confusions(self, top: int = 10) -> list[tuple[tuple[str, str], int]]:
        """Expected -> answered pairs of the single messages (labels only, never text)."""
        return Counter((e, p) for e, p in self.singles if e != p).most_common(top)


def _ratio(right: int, total: int) -> float | None:
    return round(right / total, 3) if total else None


def answered_topics(parse: dict[str, Any]) -> tuple[str, ...]:
    """What the patient gets, as topics: each general answer in order; ``clinical_question``
    for a handoff of a personal question; the intent otherwise."""
    intent = (parse.get("intent") or {}).get("name") or ""
    questions = parse.get("questions") or []
    if questions:
        topics = tuple(q["intent"] for q in questions if not q.get("personal"))
        return topics + ((CLINICAL,) if intent == CLINICAL else ())
    return (intent,)


def load_faq_set(path: Path) -> dict[str, list]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {k: raw.get(k) or [] for k in ("singles", "conversations", "two_questions")}


def score_faq_sets(model_path: Path, paths: list[Path]) -> FaqScore:
    """Parses every item of ``paths`` in this process (nothing is printed)."""
    from bot.rasa_server import understanding
    from bot.safety.evaluation import load_agent

    agent = load_agent(model_path)
    understanding.install()
    score = FaqScore()
    sets = [load_faq_set(path) for path in paths]

    async def run() -> None:
        for items in sets:
            for item in items["singles"]:
                parse = await _parse(agent, [], item["text"])
                answered = answered_topics(parse)
                # A personal question answered generally first still reaches staff: a handoff.
                score.singles.append(
                    (item["intent"], CLINICAL if CLINICAL in answered else answered[0])
                )
            for item in items["conversations"]:
                turns = [str(t) for t in item["turns"]]
                parse = await _parse(agent, turns[:-1], turns[-1])
                answered = answered_topics(parse)[0]
                if answered == MORE_DETAIL:  # the detail of the last answered topic
                    answered = await _last_topic(agent, turns[:-1])
                score.conversations.append((item["last_intent"], answered, item.get("kind", "")))
            for item in items["two_questions"]:
                parse = await _parse(agent, [], item["text"])
                score.two_questions.append((tuple(item["intents"]), answered_topics(parse)))

    asyncio.run(run())
    return score


async def _tracker(agent: Any, before: list[str]) -> Any:
    """A conversation in which each earlier turn was parsed in its context and answered."""
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    sender = f"eval-{uuid.uuid4().hex}"
    tracker = DialogueStateTracker.from_events(sender, [])
    for text in before:
        parse = await agent.processor.parse_message(UserMessage(text, sender_id=sender), tracker)
        tracker.update(UserUttered(text, parse.get("intent"), parse.get("entities"), parse))
        for topic in answered_topics(parse):
            if topic in FAQ_INTENTS:
                meta = {"reply_metadata": {"kind": "answer", "intent": topic}}
                tracker.update(BotUttered("(answer)", metadata=meta))
    return tracker


async def _parse(agent: Any, before: list[str], text: str) -> dict[str, Any]:
    from rasa.core.channels.channel import UserMessage

    tracker = await _tracker(agent, before)
    return await agent.processor.parse_message(
        UserMessage(text, sender_id=tracker.sender_id), tracker
    )


async def _last_topic(agent: Any, before: list[str]) -> str:
    tracker = await _tracker(agent, before)
    for event in reversed(tracker.events):
        meta = (getattr(event, "metadata", None) or {}).get("reply_metadata") or {}
        if meta.get("kind") == "answer":
            return meta["intent"]
    return MORE_DETAIL


def format_faq_figures(title: str, figures: dict[str, Any]) -> str:
    lines = [title]
    for key, value in figures.items():
        lines.append(f"  {key:>44}: {value}")
    return "\n".join(lines)


__all__ = [
    "FaqScore",
    "answered_topics",
    "faq_development_sets",
    "faq_sealed_sets",
    "format_faq_figures",
    "score_faq_sets",
]
