"""The learned safety check: urgent / personal clinical / general, beside the rules.

Logistic regression on two views of each unit of a message (the whole message, and each of its
sentences when there are several): the MiniLM sentence embedding, for meaning in words nobody
wrote a pattern for, and character n-grams of the folded text, for typos and other languages.
A message is as urgent as its most urgent unit, so an emergency mentioned in passing after a
parking question is judged on its own sentence. Stored as plain arrays and a vocabulary (no
pickle): loading a model never runs code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bot.safety.spec import fold, load_spec
from bot.yaml_files import read_yaml

LABELS = ("urgent", "clinical", "general")
URGENT, CLINICAL, GENERAL = LABELS
MAX_SENTENCES = 6  # more are judged together with the whole message
_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n+")


def units(text: str) -> list[str]:
    """The message, then its sentences when there is more than one."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]
    return [text] + (sentences[:MAX_SENTENCES] if len(sentences) > 1 else [])


def load_examples(directory: Path) -> list[tuple[str, str]]:
    """(text, label) from ``directory/examples/*.yml`` and every category's must (not) fire."""
    pairs: list[tuple[str, str]] = []
    for path in sorted((directory / "examples").glob("*.yml")):
        for item in (read_yaml(path) or {}).get("messages", []):
            if item.get("expect") in LABELS and str(item.get("text") or "").strip():
                pairs.append((str(item["text"]), item["expect"]))
    for category in load_spec(directory).categories.values():
        pairs += [(t, URGENT) for t in category.must_fire]
        pairs += [(t, GENERAL) for t in category.must_not_fire]
    return pairs


@dataclass
class SafetyClassifier:
    """Char n-gram vocabulary and idf, and the logistic regression's weights."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    labels: tuple[str, ...] = LABELS

    @classmethod
    def fit(
        cls, texts: list[str], labels: list[str], embeddings: np.ndarray, c: float = 4.0
    ) -> SafetyClassifier:
        from bot.safety.block_logistic import DenseSparseFeatures, fit_multinomial

        vectorizer = _vectorizer()
        grams = vectorizer.fit_transform(texts)
        # sklearn's LogisticRegression(C=c, max_iter=5000, class_weight="balanced"), fitted
        # on the two blocks without stacking them (bot.safety.block_logistic: the same model).
        model = fit_multinomial(DenseSparseFeatures(embeddings, grams), labels, c, 5000)
        order = [model.classes.index(label) for label in LABELS]
        return cls(
            vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
            idf=np.asarray(vectorizer.idf_),
            coef=model.coef[order],
            intercept=model.intercept[order],
        )

    def proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Probabilities per text, columns in :data:`LABELS` order."""
        vectorizer = self._fitted_vectorizer()
        # The dense and the sparse block scored apart: the same sum as on the stacked training
        # features, without building a sparse copy of the dense embeddings.
        width = embeddings.shape[1]
        scores = np.asarray(embeddings, dtype=np.float64) @ self.coef[:, :width].T
        scores += np.asarray(self._tfidf(texts, vectorizer) @ self._gram_weights(width))
        scores += self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _tfidf(self, texts: list[str], vectorizer) -> sp.csr_matrix:  # noqa: ANN001
        """What ``vectorizer.transform(texts)`` returns (sublinear tf, idf, unit length), without
        sklearn's per-call checks and matrix builds, which cost more than the counting."""
        analyze = self._analyzer(vectorizer)
        indptr, indices, values = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for gram in analyze(text):
                column = self.vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            row = (np.log(np.fromiter(counts.values(), np.float64, len(counts))) + 1.0)
            row *= self.idf[columns]
            norm = np.sqrt(np.dot(row, row))
            if norm > 0:
                row /= norm
            indices.append(columns)
            values.append(row)
            indptr.append(indptr[-1] + len(counts))
        return sp.csr_matrix(
            (np.concatenate(values) if values else np.zeros(0),
             np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64), indptr),
            shape=(len(texts), len(self.vocabulary)),
        )  # fmt: skip

    def _analyzer(self, vectorizer):  # noqa: ANN001, ANN202 - sklearn's callable
        if getattr(self, "_analyze_cache", None) is None:
            self._analyze_cache = vectorizer.build_analyzer()
        return self._analyze_cache

    def _gram_weights(self, width: int) -> np.ndarray:
        # Contiguous once: scipy copies a transposed view on every sparse product (~1 ms).
        cached = getattr(self, "_gram_cache", None)
        if cached is not None and cached[0] is self.coef and cached[1] == width:
            return cached[2]
        block = np.ascontiguousarray(self.coef[:, width:].T)
        self._gram_cache = (self.coef, width, block)
        return block

    def _fitted_vectorizer(self):  # noqa: ANN202 - sklearn's type
        # Built once: constructing it from the vocabulary costs more than a prediction.
        if getattr(self, "_vectorizer_cache", None) is None:
            vectorizer = _vectorizer(self.vocabulary)
            vectorizer.idf_ = self.idf
            self._vectorizer_cache = vectorizer
        return self._vectorizer_cache

    def save(self, directory: Path) -> None:
        np.savez(directory / "safety_classifier.npz", idf=self.idf, coef=self.coef,
                 intercept=self.intercept)  # fmt: skip
        (directory / "safety_vocabulary.json").write_text(json.dumps(self.vocabulary))

    @classmethod
    def load(cls, directory: Path) -> SafetyClassifier:
        arrays = np.load(directory / "safety_classifier.npz", allow_pickle=False)
        vocabulary = json.loads((directory / "safety_vocabulary.json").read_text())
        return cls(vocabulary, arrays["idf"], arrays["coef"], arrays["intercept"])


def _vectorizer(vocabulary: dict[str, int] | None = None):  # noqa: ANN202 - sklearn's type
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        min_df=2 if vocabulary is None else 1,
        sublinear_tf=True,
        preprocessor=fold,
        vocabulary=vocabulary,
        dtype=np.float64,
    )
