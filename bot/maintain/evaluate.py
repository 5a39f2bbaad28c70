"""Scoring a candidate model against the current one, and writing the report.

Held-out figures come from the real models (full pipeline, safety layer and fallback). The
cross-validation re-creates the pipeline's features in process (MiniLM sentence embeddings once,
character n-grams and the logistic regression per fold, then the same safety rules and fallback
threshold), so five folds take seconds instead of five Rasa trainings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.intents import CLINICAL, FAQ_INTENTS, NLU_FALLBACK, URGENT_SYMPTOMS
from bot.maintain.training import Evaluation, training_examples

SAFETY_FIGURES = ("urgent_recall", "clinical_recall", "safety_to_faq")


def _pipeline_settings(root: Path) -> dict:
    """The classifier, character n-gram and fallback settings of ``root``'s config.yml, so
    cross-validation measures the pipeline that is trained (defaults as the components')."""
    config = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))
    settings = {
        "C": 10.0, "sparse_weight": 1.0, "threshold": 0.3,
        "analyzer": "word", "min_ngram": 1, "max_ngram": 1, "min_df": 1,
    }  # fmt: skip
    for component in config["pipeline"]:
        name = component["name"]
        if name.endswith("LinearIntentClassifier"):
            settings.update({k: component[k] for k in ("C", "sparse_weight") if k in component})
        elif name == "CountVectorsFeaturizer":
            keys = ("analyzer", "min_ngram", "max_ngram", "min_df")
            settings.update({k: component[k] for k in keys if k in component})
        elif name == "FallbackClassifier":
            settings["threshold"] = component.get("threshold", 0.3)
    return settings


def safety_decision(
    detector: Any, text: str, predicted_intent: str | None
) -> tuple[str, Any] | None:
    """What the rules alone impose on ``text`` (and why), or None: cross-validation re-creates
    the pipeline without a trained learned check."""
    doc = detector.parse(text)
    match = detector.urgent(doc)
    if match is not None:
        return URGENT_SYMPTOMS, match
    if predicted_intent in FAQ_INTENTS:
        match = detector.clinical(doc)
        if match is not None:
            return CLINICAL, match
    return None


def cross_validate(root: Path, folds: int = 5, seed: int = 42, progress: bool = True) -> Evaluation:
    """Stratified k-fold predictions over ``root``'s training data (see module docstring)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from bot.nlu.linear_classifier import _log_l2
    from bot.nlu.minilm import shared_encoder
    from bot.safety import SafetyDetector

    settings = _pipeline_settings(root)
    pairs = training_examples(root)
    labels = np.array([intent for intent, _ in pairs])
    texts = [text for _, text in pairs]
    dense = sp.csr_matrix(shared_encoder().encode(texts))
    detector = SafetyDetector()
    evaluation = Evaluation()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    from tqdm import tqdm

    splits = splitter.split(texts, labels)
    for train_index, test_index in tqdm(
        splits, total=folds, desc="cross-validation", disable=not progress
    ):
        vectorizer = CountVectorizer(
            analyzer=settings["analyzer"],
            ngram_range=(settings["min_ngram"], settings["max_ngram"]),
            min_df=settings["min_df"],
        )
        vectorizer.fit([texts[i] for i in train_index])
        features = sp.hstack(
            [dense, settings["sparse_weight"] * _log_l2(vectorizer.transform(texts))]
        ).tocsr()
        model = LogisticRegression(
            C=settings["C"], max_iter=3000, class_weight="balanced", random_state=seed
        ).fit(features[train_index], labels[train_index])
        probabilities = model.predict_proba(features[test_index])
        for row, index in zip(probabilities, test_index, strict=False):
            best = int(np.argmax(row))
            predicted, confidence = str(model.classes_[best]), float(row[best])
            decision = safety_decision(detector, texts[index], predicted)
            if decision is not None:
                predicted, confidence = decision[0], 1.0
            elif confidence < settings["threshold"]:
                predicted = NLU_FALLBACK
            evaluation.predictions.append((labels[index], predicted, confidence, texts[index]))
    return evaluation


def per_intent_table(evaluation: Evaluation) -> list[tuple[str, float, float, float, int]]:
    """(intent, precision, recall, F1, support) for every expected intent."""
    rows = []
    expected = sorted({p[0] for p in evaluation.predictions})
    for intent in expected:
        tp = sum(1 for p in evaluation.predictions if p[0] == intent and p[1] == intent)
        predicted = sum(1 for p in evaluation.predictions if p[1] == intent)
        support = sum(1 for p in evaluation.predictions if p[0] == intent)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((intent, precision, recall, f1, support))
    return rows


def confusion_png(evaluation: Evaluation, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({p[0] for p in evaluation.predictions} | {p[1] for p in evaluation.predictions})
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for expected, predicted, _, _ in evaluation.predictions:
        matrix[index[expected], index[predicted]] += 1
    fig, ax = plt.subplots(figsize=(11, 10))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                colour = "white" if matrix[i, j] > matrix.max() / 2 else "black"
                ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=6, color=colour)
    ax.set_title("Held-out confusion matrix (candidate)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass
class Comparison:
    candidate: dict
    current: dict | None
    cross_validation: dict | None


def write_report(
    path: Path,
    comparison: Comparison,
    candidate_eval: Evaluation,
    candidate_name: str,
    current_name: str | None,
) -> Path:
    """A Markdown report: figures side by side, per-intent scores, the confusion matrix."""
    from bot.maintain.promote import gate

    png = path.with_suffix(".png")
    confusion_png(candidate_eval, png)
    current = comparison.current or {}
    lines = [
        f"# Model evaluation — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Candidate: `{candidate_name}`  ",
        f"Current: `{current_name or 'none'}`",
        "",
        "| figure | current | candidate |",
        "|---|---|---|",
    ]
    for key in ("faq_accuracy", "accuracy", *SAFETY_FIGURES, "fallbacks", "examples"):
        lines.append(f"| {key} | {current.get(key, '–')} | {comparison.candidate.get(key)} |")
    if comparison.cross_validation:
        cv = comparison.cross_validation
        lines += [
            "",
            "Cross-validation of the candidate's training data (5 folds): "
            + ", ".join(f"{k} {v}" for k, v in cv.items()),
        ]
    refusals = gate(comparison.candidate, comparison.current)
    lines += ["", "## Gate", ""]
    lines += [f"- REFUSED: {r}" for r in refusals] or ["- passes: not less safe, FAQ accuracy kept"]
    misses = candidate_eval.safety_to_faq
    lines += ["", "## Clinical or urgent messages that would have received an FAQ answer", ""]
    lines += [f"- `{p[0]}` → `{p[1]}`: {p[3]}" for p in misses] or ["- none"]
    lines += [
        "",
        "## Per intent (held-out, candidate)",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {i} | {p:.2f} | {r:.2f} | {f:.2f} | {n} |"
        for i, p, r, f, n in per_intent_table(candidate_eval)
    ]
    lines += ["", f"![confusion matrix]({png.name})", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
