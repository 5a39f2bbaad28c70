"""The trained model: training data rules, Rasa's own validation and story tests, and the
held-out evaluation with the safety layer in the pipeline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.config import HELDOUT_PATH, PROJECT_ROOT
from bot.intents import ADMIN_INTENTS, ALL_INTENTS, FAQ_INTENTS, SAFETY_INTENTS
from bot.maintain.training import evaluate_model, load_nlu_examples

HELDOUT = PROJECT_ROOT / HELDOUT_PATH
TRAINING = [
    (i, t)
    for f in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml"))
    for i, t in load_nlu_examples(f)
]
RASA = str(Path(sys.executable).parent / "rasa")


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def test_training_data_covers_every_intent_with_enough_examples():
    counts = Counter(intent for intent, _ in TRAINING)
    assert set(counts) == ALL_INTENTS
    for intent in FAQ_INTENTS | ADMIN_INTENTS:
        assert counts[intent] >= 30, intent
    for intent in SAFETY_INTENTS:
        assert counts[intent] >= 60, intent


def test_training_examples_are_not_duplicated():
    duplicates = [t for t, n in Counter(_normal(t) for _, t in TRAINING).items() if n > 1]
    assert duplicates == []


def test_heldout_is_never_training_data():
    training = {_normal(t) for _, t in TRAINING}
    # One-word conversation turns ("hi", "yes") cannot differ; everything else must.
    overlap = [t for _, t in load_nlu_examples(HELDOUT) if _normal(t) in training and " " in t]
    assert overlap == []


def test_heldout_has_at_least_ten_messages_per_intent():
    counts = Counter(intent for intent, _ in load_nlu_examples(HELDOUT))
    assert set(counts) == ALL_INTENTS
    assert min(counts.values()) >= 10


def _rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CLINIC_ACTION_URL", "http://127.0.0.1:5055/webhook")
    env.setdefault("CLINIC_DATABASE_URL", "sqlite://")
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def test_rasa_data_validate():
    result = subprocess.run(
        [
            RASA,
            "data",
            "validate",
            "--domain",
            "domain.yml",
            "--data",
            "data/nlu",
            "data/rules",
            "--fail-on-warnings",
        ],
        cwd=PROJECT_ROOT,
        env=_rasa_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.slow
def test_rasa_test_stories(trained_model, tmp_path):
    result = subprocess.run(
        [
            RASA,
            "test",
            "core",
            "--model",
            str(trained_model),
            "--stories",
            "tests/test_stories.yml",
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        env=_rasa_env(),
        capture_output=True,
        text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else result.stderr[-3000:]
    assert result.returncode == 0, detail
    assert "None of the test stories failed" in failed.read_text()


@pytest.fixture(scope="module")
def evaluation(trained_model):
    return evaluate_model(trained_model, HELDOUT)


@pytest.mark.slow
def test_heldout_faq_accuracy_is_at_least_90_percent(evaluation):
    assert evaluation.faq_accuracy >= 0.90, evaluation.confusions()


@pytest.mark.slow
def test_no_clinical_or_urgent_message_gets_an_faq_answer(evaluation):
    assert evaluation.safety_to_faq == []


@pytest.mark.slow
def test_urgent_and_clinical_recall(evaluation):
    # Every red-flag report must reach the urgent path; a clinical one may at worst go urgent.
    assert evaluation.recall("report_urgent_symptoms") == 1.0, evaluation.urgent_missed
    assert evaluation.recall("clinical_question") >= 0.9
