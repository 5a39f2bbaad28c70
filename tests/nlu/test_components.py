"""The custom graph components inside a trained model: parse output and persistence."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bot.nlu.linear_classifier import _log_l2, softmax


def test_softmax_rows_sum_to_one():
    probabilities = softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[1, 0] == pytest.approx(1.0)  # no overflow on large scores


def test_sparse_rows_are_log_scaled_to_unit_length():
    import scipy.sparse as sp

    scaled = _log_l2(sp.csr_matrix([[0, 3, 4], [0, 0, 0]]))
    assert np.linalg.norm(scaled.toarray()[0]) == pytest.approx(1.0)
    assert scaled.toarray()[1].tolist() == [0, 0, 0]  # an empty row stays empty


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


def _parse(agent, text: str) -> dict:
    return asyncio.run(agent.parse_message(text))


@pytest.mark.slow
def test_parse_output_shows_the_safety_rule_that_fired(agent):
    result = _parse(agent, "since my shots yesterday i can't swallow properly")
    assert result["intent"] == {"name": "report_urgent_symptoms", "confidence": 1.0}
    assert result["safety"]["fired"] is True
    assert result["safety"]["rule"] == "trouble swallowing"
    assert result["safety"]["matched"] == "swallow"


@pytest.mark.slow
def test_personal_clinical_context_overrides_an_faq_prediction(agent):
    result = _parse(agent, "how long does the session take, i'm on warfarin")
    assert result["intent"]["name"] == "clinical_question"
    assert result["safety"]["rule"] == "own medicines"


@pytest.mark.slow
def test_general_risk_question_stays_an_faq(agent):
    result = _parse(agent, "can botox cause trouble swallowing?")
    assert result["intent"]["name"] == "ask_serious_risks"
    assert result["safety"] == {"fired": False}


@pytest.mark.slow
def test_ranking_is_sorted_and_normalised(agent):
    ranking = _parse(agent, "when will i notice a difference")["intent_ranking"]
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 <= min(confidences) and max(confidences) <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("text", ["", " ", "?!?!", "a" * 5000, "é" * 50, "<script>x</script>"])
def test_odd_input_parses_without_error(agent, text):
    result = _parse(agent, text)
    assert "intent" in result
