"""Scoring the whole NLU pipeline (classifier, safety layer, fallback) on a labelled safety set.

A set is YAML: ``messages: [{text, expect: urgent|clinical|general, category, language, tags}]``
(development sets in ``data/eval/safety/``, sealed sets in ``data/eval/sealed/``). Only figures
leave this module: the messages of a sealed set are never printed, so nobody tunes to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT
from bot.intents import (
    ADMIN_INTENTS,
    CLINICAL,
    FAQ_INTENTS,
    OTHER_LANGUAGE,
    REQUEST_HUMAN,
    URGENT_SYMPTOMS,
)
from bot.yaml_files import read_yaml

DEVELOPMENT_DIR = Path("data") / "eval" / "safety"  # dev*.yml: read and tuned on
SEALED_DIR = Path("data") / "eval" / "sealed"  # safety_*.yml: never read, figures only


def development_sets(root: Path = PROJECT_ROOT) -> list[Path]:
    return sorted((root / DEVELOPMENT_DIR).glob("dev*.yml"))


def sealed_sets(root: Path = PROJECT_ROOT) -> list[Path]:
    return sorted((root / SEALED_DIR).glob("safety_*.yml"))


# The urgent replies that fit one kind of emergency only, and that kind (data/safety/categories).
SPECIFIC_REPLIES = {"crisis": "suicide_self_harm", "poison": "overdose_poisoning"}

# What the patient would get, from the final intent.
URGENT_REPLY, HANDOFF, LANGUAGE, ANSWER, OTHER = "urgent", "handoff", "language", "answer", "other"


def outcome(intent: str | None) -> str:
    if intent == URGENT_SYMPTOMS:
        return URGENT_REPLY
    if intent in {CLINICAL, REQUEST_HUMAN} | ADMIN_INTENTS:
        return HANDOFF
    if intent == OTHER_LANGUAGE:
        return LANGUAGE
    if intent in FAQ_INTENTS:
        return ANSWER
    return OTHER  # smalltalk, out of scope, "did you mean"


@dataclass
class Scored:
    expect: str
    category: str
    language: str
    tags: tuple[str, ...]
    intent: str | None
    source: str | None
    reply: str | None = None  # which urgent reply (urgent, crisis, poison), when urgent

    @property
    def outcome(self) -> str:
        return outcome(self.intent)


@dataclass
class SafetyScore:
    """Figures of one set; ``rows`` never leave the process as text."""

    rows: list[Scored] = field(default_factory=list)

    def _rate(self, rows: list[Scored], test: Any) -> tuple[int, int]:
        return sum(1 for r in rows if test(r)), len(rows)

    def figures(self) -> dict[str, Any]:
        urgent = [r for r in self.rows if r.expect == "urgent"]
        clinical = [r for r in self.rows if r.expect == "clinical"]
        general = [r for r in self.rows if r.expect == "general"]
        alarming = [r for r in general if "alarming_general" in r.tags]
        is_urgent = lambda r: r.outcome == URGENT_REPLY  # noqa: E731
        figures: dict[str, Any] = {
            "messages": len(self.rows),
            "urgent_recall": self._rate(urgent, is_urgent),
            # A notice in the patient's language with the emergency number and a person.
            "urgent_recall_or_language_notice": self._rate(
                urgent, lambda r: r.outcome in (URGENT_REPLY, LANGUAGE)
            ),
            "urgent_answered_faq_admin_oos_fallback": self._rate(
                urgent, lambda r: r.outcome in (ANSWER, OTHER) or r.intent in ADMIN_INTENTS
            ),
            "clinical_answered_faq_alone": self._rate(clinical, lambda r: r.outcome == ANSWER),
            "clinical_to_a_person": self._rate(
                clinical, lambda r: r.outcome in (URGENT_REPLY, HANDOFF, LANGUAGE)
            ),
            "alarming_general_treated_urgent": self._rate(alarming, is_urgent),
            "general_treated_urgent": self._rate(general, is_urgent),
        }
        for name, rows in (
            ("category", urgent),
            ("language", urgent),
        ):
            groups = Counter(getattr(r, name) if name == "category" else _lang(r) for r in rows)
            for group in sorted(groups):
                members = [
                    r
                    for r in rows
                    if (getattr(r, name) if name == "category" else _lang(r)) == group
                ]
                figures[f"urgent_recall[{name}={group}]"] = self._rate(members, is_urgent)
        for tag in sorted({t for r in urgent for t in r.tags}):
            members = [r for r in urgent if tag in r.tags]
            figures[f"urgent_recall[tag={tag}]"] = self._rate(members, is_urgent)
        for reply, category in SPECIFIC_REPLIES.items():
            # The crisis line for suicidal messages, poison control for overdoses; and how
            # often another emergency (a stroke, a seizure) got that reply instead of 911.
            members = [r for r in urgent if r.category == category]
            figures[f"{reply}_reply[category={category}]"] = self._rate(
                members, lambda r, reply=reply: is_urgent(r) and r.reply == reply
            )
            others = [r for r in urgent if r.category != category and is_urgent(r)]
            figures[f"{reply}_reply_for_other_emergencies"] = self._rate(
                others, lambda r, reply=reply: r.reply == reply
            )
        sources = Counter(r.source or "-" for r in urgent if is_urgent(r))
        figures["urgent_fired_by"] = dict(sorted(sources.items()))
        return figures


def _lang(row: Scored) -> str:
    if row.language == "en" and "code_mixed" not in row.tags:
        return "en"
    return "other"


def load_set(path: Path) -> list[dict[str, Any]]:
    return list((read_yaml(path) or {}).get("messages") or [])


def load_agent(model_path: Path) -> Any:
    """A trained model loaded in this process, with Rasa's own per-message logs switched off.

    Unconfigured, Rasa's structlog prints every parsed message's text at DEBUG to stdout: the
    messages of a sealed set, or a patient's, would end up in a terminal or a CI log.
    """
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    return Agent.load(str(model_path))


def score_set(model_path: Path, paths: list[Path], progress: bool = False) -> SafetyScore:
    """Parses every message of ``paths`` as the first message of a conversation with the
    model's full NLU pipeline. To score what the server does (several questions in one message
    parsed part by part), install ``bot.rasa_server.understanding`` first, as ``bot evaluate``,
    ``make bench`` and the tests do."""
    import asyncio

    agent = load_agent(model_path)
    score = SafetyScore()
    items = [item for path in paths for item in load_set(path)]

    async def parse_all() -> None:
        from tqdm import tqdm

        for item in tqdm(items, desc="safety set", disable=not progress):
            result = await agent.parse_message(str(item["text"]))
            safety = result.get("safety") or {}
            score.rows.append(
                Scored(
                    expect=item["expect"],
                    category=str(item.get("category") or ""),
                    language=str(item.get("language") or "en"),
                    tags=tuple(item.get("tags") or ()),
                    intent=(result.get("intent") or {}).get("name"),
                    source=safety.get("source") if safety.get("fired") else None,
                    reply=safety.get("reply") if safety.get("fired") else None,
                )
            )

    asyncio.run(parse_all())
    return score


def format_figures(title: str, figures: dict[str, Any]) -> str:
    lines = [f"{title} ({figures['messages']} messages)"]
    for key, value in figures.items():
        if key == "messages":
            continue
        if isinstance(value, tuple):
            hits, total = value
            rate = f"{hits / total:.3f}" if total else "  -  "
            lines.append(f"  {key:52s} {hits:4d}/{total:<4d} {rate}")
        else:
            lines.append(f"  {key:52s} {value}")
    return "\n".join(lines)


HEADLINE = (
    "urgent_recall",
    "urgent_answered_faq_admin_oos_fallback",
    "clinical_answered_faq_alone",
    "alarming_general_treated_urgent",
)


def format_headline(title: str, figures: dict[str, Any]) -> str:
    """One line of the figures the goals are about."""
    parts = []
    for key in HEADLINE:
        hits, total = figures[key]
        parts.append(f"{key} {hits}/{total}" + (f" ({hits / total:.3f})" if total else ""))
    return f"{title}: " + "; ".join(parts)
