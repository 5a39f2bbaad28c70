"""FAQ understanding in conversation (follow-ups, several questions in one message), scored
with the whole trained pipeline and the Rasa server's contextual understanding: figures only.

The development set (data/eval/faq/) was written here and tuned on: its assertions hold the
gains. The sealed set (data/eval/sealed/faq_*.yml) was written by a helper who never saw the
training data: this test prints its figures and asserts floors, not the goals (README.md has
the goals and the figures measured).
"""

from __future__ import annotations

import pytest

from bot.maintain.conversations import (
    faq_development_sets,
    faq_sealed_sets,
    format_faq_figures,
    score_faq_sets,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dev(trained_model):
    return score_faq_sets(trained_model, faq_development_sets()).figures()


def test_development_follow_ups_and_several_questions(dev, capsys):
    with capsys.disabled():
        print("\n" + format_faq_figures("FAQ in conversation, development (tuned on)", dev))
    assert dev["last turn with the right topic"] >= 0.85
    assert dev["all topics answered"] >= 0.90
    assert dev["clinical answered with an FAQ answer alone"] == 0


@pytest.mark.skipif(not faq_sealed_sets(), reason="no sealed FAQ set in this checkout")
def test_sealed_set_prints_its_figures_and_holds_the_floor(trained_model, capsys):
    figures = score_faq_sets(trained_model, faq_sealed_sets()).figures()
    with capsys.disabled():
        print("\n" + format_faq_figures("FAQ in conversation, sealed (never read)", figures))
    assert figures["clinical answered with an FAQ answer alone"] == 0
    assert figures["accuracy"] >= 0.80
    assert figures["last turn with the right topic"] >= 0.50
    assert figures["all topics answered"] >= 0.60


def test_scoring_prints_no_message_text(trained_model, tmp_path, capfd):
    path = tmp_path / "probe.yml"
    secret = "zebracorn how long is the appointment"
    path.write_text(
        "singles:\n"
        f"- {{text: '{secret}', intent: ask_session_length}}\n"
        "conversations:\n"
        f"- {{turns: ['can i drive after?', '{secret} and gym?'], last_intent: ask_aftercare}}\n"
        "two_questions:\n"
        f"- {{text: '{secret} and does it hurt?', intents: [ask_session_length]}}\n"
    )
    score_faq_sets(trained_model, [path])
    out, err = capfd.readouterr()
    assert "zebracorn" not in out and "zebracorn" not in err
