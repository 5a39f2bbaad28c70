"""evaluate.py on hand-made predictions: the per-intent table, the pipeline settings that
cross-validation copies from config.yml, and the Markdown report."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.maintain.evaluate import Comparison, _pipeline_settings, per_intent_table, write_report
from bot.maintain.training import Evaluation

DEFAULTS = {
    "C": 10.0,
    "sparse_weight": 1.0,
    "threshold": 0.3,
    "analyzer": "word",
    "min_ngram": 1,
    "max_ngram": 1,
    "min_df": 1,
}


def ev(*rows: tuple[str, str]) -> Evaluation:
    return Evaluation(predictions=[(e, p, 0.8, f"text {i}") for i, (e, p) in enumerate(rows)])


# --- per_intent_table ---------------------------------------------------------------------------


def test_per_intent_table_by_hand():
    evaluation = ev(
        ("a", "a"),
        ("a", "a"),
        ("a", "b"),
        ("b", "b"),
        ("b", "a"),
        ("c", "nlu_fallback"),
    )
    rows = {row[0]: row[1:] for row in per_intent_table(evaluation)}
    assert list(rows) == ["a", "b", "c"]  # expected intents only, sorted; no nlu_fallback row
    precision, recall, f1, support = rows["a"]
    assert (precision, recall, support) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 3)
    assert f1 == pytest.approx(2 / 3)
    precision, recall, f1, support = rows["b"]
    assert (precision, recall, support) == (0.5, 0.5, 2)
    assert f1 == pytest.approx(0.5)
    assert rows["c"] == (0.0, 0.0, 0.0, 1)  # never predicted: no division by zero


def test_per_intent_table_f1_is_the_harmonic_mean():
    # x: predicted 4 times, 1 right (precision 1/4); expected twice (recall 1/2)
    evaluation = ev(("x", "x"), ("x", "y"), ("y", "x"), ("y", "x"), ("z", "x"))
    row = next(r for r in per_intent_table(evaluation) if r[0] == "x")
    _, precision, recall, f1, support = row
    assert (precision, recall, support) == (0.25, 0.5, 2)
    assert f1 == pytest.approx(2 * 0.25 * 0.5 / 0.75)


def test_per_intent_table_of_nothing_is_empty():
    assert per_intent_table(Evaluation()) == []


# --- _pipeline_settings ---------------------------------------------------------------------------


def test_pipeline_settings_of_the_project_config():
    """What cross-validation copies must be what config.yml trains."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    by_name = {c["name"].rsplit(".", 1)[-1]: c for c in config["pipeline"]}
    settings = _pipeline_settings(PROJECT_ROOT)
    assert settings["C"] == by_name["LinearIntentClassifier"]["C"]
    assert settings["sparse_weight"] == by_name["LinearIntentClassifier"]["sparse_weight"]
    assert settings["threshold"] == by_name["FallbackClassifier"]["threshold"]
    for key in ("analyzer", "min_ngram", "max_ngram", "min_df"):
        assert settings[key] == by_name["CountVectorsFeaturizer"][key]
    assert set(settings) == set(DEFAULTS)


def _write_config(root: Path, pipeline: list[dict]) -> Path:
    (root / "config.yml").write_text(yaml.safe_dump({"language": "en", "pipeline": pipeline}))
    return root


@pytest.mark.parametrize(
    ("pipeline", "changes"),
    [
        ([{"name": "WhitespaceTokenizer"}], {}),
        ([{"name": "FallbackClassifier"}], {}),  # no threshold: the component's 0.3
        ([{"name": "FallbackClassifier", "threshold": 0.55}], {"threshold": 0.55}),
        (
            [{"name": "bot.nlu.linear_classifier.LinearIntentClassifier", "C": 3.0}],
            {"C": 3.0},
        ),
        (
            [{"name": "my.fork.LinearIntentClassifier", "sparse_weight": 0.5, "other": 1}],
            {"sparse_weight": 0.5},
        ),
        (
            [{"name": "CountVectorsFeaturizer", "analyzer": "char", "max_ngram": 4}],
            {"analyzer": "char", "max_ngram": 4},
        ),
        (
            [
                {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_df": 3},
                {"name": "LinearIntentClassifier", "C": 1.0, "sparse_weight": 2.0},
                {"name": "FallbackClassifier", "threshold": 0.4},
            ],
            {"analyzer": "char_wb", "min_df": 3, "C": 1.0, "sparse_weight": 2.0, "threshold": 0.4},
        ),
        # a different classifier's C is not ours
        ([{"name": "LogisticRegressionClassifier", "C": 99.0}], {}),
    ],
)
def test_pipeline_settings_table(tmp_path, pipeline, changes):
    assert _pipeline_settings(_write_config(tmp_path, pipeline)) == {**DEFAULTS, **changes}


# --- write_report -------------------------------------------------------------------------------

FIGURES = {
    "faq_accuracy": 0.94,
    "accuracy": 0.9,
    "urgent_recall": 1.0,
    "clinical_recall": 0.95,
    "safety_to_faq": 0,
    "fallbacks": 3,
    "examples": 100,
}


def test_write_report_shows_the_gate_the_misses_and_the_table(tmp_path):
    candidate_eval = ev(
        ("ask_injection_pain", "ask_injection_pain"),
        ("clinical_question", "ask_side_effects"),
    )
    worse = {**FIGURES, "clinical_recall": 0.5, "safety_to_faq": 1}
    path = write_report(
        tmp_path / "reports" / "evaluation.md",
        Comparison(worse, FIGURES, {"accuracy": 0.88}),
        candidate_eval,
        "clinic-new.tar.gz",
        "clinic-old.tar.gz",
    )
    text = path.read_text()
    assert path.with_suffix(".png").stat().st_size > 0
    assert "Candidate: `clinic-new.tar.gz`" in text and "Current: `clinic-old.tar.gz`" in text
    assert "| clinical_recall | 0.95 | 0.5 |" in text
    assert "- REFUSED: clinical_recall drops from 0.950 to 0.500" in text
    assert "- `clinical_question` → `ask_side_effects`: text 1" in text
    assert "| ask_injection_pain | 1.00 | 1.00 | 1.00 | 1 |" in text
    assert "accuracy 0.88" in text
    assert "![confusion matrix](evaluation.png)" in text


def test_write_report_for_the_first_model(tmp_path):
    path = write_report(
        tmp_path / "first.md",
        Comparison(FIGURES, None, None),
        ev(("greet", "greet")),
        "clinic-first.tar.gz",
        None,
    )
    text = path.read_text()
    assert "Current: `none`" in text
    assert "| faq_accuracy | – | 0.94 |" in text
    assert "- passes: not less safe, FAQ accuracy kept" in text
    assert "REFUSED" not in text
    assert "Cross-validation" not in text
