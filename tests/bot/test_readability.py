"""Plain language: every answer at Flesch-Kincaid grade 8 or below, every message that sends a
patient for help or to a person at grade 6 or below (textstat 0.7.3, offline).

Grades are measured on the texts as patients read them: clinic facts filled in.
"""

from __future__ import annotations

import pytest
import textstat

from bot.content.answers import APPROVED, load_answer_specs
from bot.content.messages import Messages
from tests.helpers import CONTENT_DIR

ANSWER_GRADE = 8.0
HELP_GRADE = 6.0
# Messages that tell a patient to get help now or that their question went to a person.
HELP_MESSAGES = (
    "urgent", "risk_what_to_do", "crisis", "poison", "language_notice", "error",
    "handoff_language", "handoff_clinical", "handoff_requested", "handoff_admin",
    "handoff_fallback", "handoff_closed", "handoff_failed", "handoff_no_answer",
    "contact_saved", "contact_chat", "contact_failed", "contact_gave_up",
)  # fmt: skip

MESSAGES = Messages.load(CONTENT_DIR)
ANSWERS = [s for s in load_answer_specs(CONTENT_DIR / "answers.yml") if s.status == APPROVED]
TYPED = {"contact_name": "Sam", "contact": "+1 212-555-2368", "next_opening": "Monday at 9:00"}


def _grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def _message(key: str) -> str:
    try:
        return MESSAGES.text(key, **TYPED)
    except TypeError:
        return MESSAGES.text(key)


@pytest.mark.parametrize("spec", ANSWERS, ids=lambda s: s.answer_id)
def test_every_answer_reads_at_grade_8_or_below(spec, capsys):
    grade = _grade(spec.text)
    with capsys.disabled():
        print(f"\n  grade {grade:4.1f}  answer {spec.answer_id} v{spec.version}", end="")
    assert grade <= ANSWER_GRADE


@pytest.mark.parametrize("key", HELP_MESSAGES)
def test_every_help_and_handoff_message_reads_at_grade_6_or_below(key, capsys):
    grade = _grade(_message(key))
    with capsys.disabled():
        print(f"\n  grade {grade:4.1f}  message {key}", end="")
    assert grade <= HELP_GRADE


def test_the_grade_measure_tells_plain_from_dense_text():
    plain = "Call us if you feel unwell. We will help you."
    dense = (
        "Botox has a boxed warning about the distant spread of toxin effects, which can cause "
        "symptoms such as generalised muscle weakness, diplopia and dysphagia."
    )
    assert _grade(plain) <= HELP_GRADE < ANSWER_GRADE < _grade(dense)
