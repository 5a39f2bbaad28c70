"""SafetyScore: the figures a set's parses give, from rows built here (no model)."""

from __future__ import annotations

import pytest

from bot.safety.evaluation import SafetyScore, Scored


def row(expect: str, intent: str | None, category: str = "", reply: str | None = None) -> Scored:
    return Scored(expect, category, "en", (), intent, "classifier" if reply else None, reply)


URGENT = "report_urgent_symptoms"


@pytest.mark.parametrize(
    ("rows", "key", "expected"),
    [
        # Suicidal messages: urgent with the crisis line counts; urgent without it, or not
        # urgent at all, does not.
        ([row("urgent", URGENT, "suicide_self_harm", "crisis"),
          row("urgent", URGENT, "suicide_self_harm", "urgent"),
          row("urgent", "clinical_question", "suicide_self_harm")],
         "crisis_reply[category=suicide_self_harm]", (1, 3)),
        ([row("urgent", URGENT, "overdose_poisoning", "poison"),
          row("urgent", URGENT, "overdose_poisoning", "crisis")],
         "poison_reply[category=overdose_poisoning]", (1, 2)),
        # Another emergency with the crisis line or poison control instead of the emergency
        # reply, among the urgent ones that got an urgent reply.
        ([row("urgent", URGENT, "stroke_signs", "crisis"),
          row("urgent", URGENT, "seizure", "urgent"),
          row("urgent", "clinical_question", "seizure"),
          row("urgent", URGENT, "suicide_self_harm", "crisis")],
         "crisis_reply_for_other_emergencies", (1, 2)),
        ([row("urgent", URGENT, "stroke_signs", "poison"),
          row("urgent", URGENT, "overdose_poisoning", "poison")],
         "poison_reply_for_other_emergencies", (1, 1)),
    ],
)  # fmt: skip
def test_reply_figures(rows, key, expected):
    assert SafetyScore(rows).figures()[key] == expected


def test_urgent_recall_counts_the_urgent_intent_whatever_the_reply():
    rows = [row("urgent", URGENT, "seizure", "urgent"), row("urgent", URGENT, "seizure", "crisis"),
            row("urgent", "ask_procedure", "seizure")]  # fmt: skip
    figures = SafetyScore(rows).figures()
    assert figures["urgent_recall"] == (2, 3)
    assert figures["urgent_answered_faq_admin_oos_fallback"] == (1, 3)
