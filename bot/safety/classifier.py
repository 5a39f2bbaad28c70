"""The learned safety check: urgent / personal clinical / general, beside the rules.

Logistic regression on two views of each unit of a message (the whole message, and each of its
sentences when there are several): the MiniLM sentence embedding, for meaning in words nobody
wrote a pattern for, and character n-grams of the folded text, for typos and other languages.
A message is as urgent as its most urgent unit, so an emergency mentioned in passing after a
parking question is judged on its own sentence. Stored as plain arrays and a vocabulary (no
pickle): loading a model never runs code.

Beside it, on the same features, a second regression trained on the urgent examples alone says
which urgent reply a message the check calls urgent needs (:data:`REPLIES`): the emergency
reply, the crisis line for suicidal thoughts or self-harm, or poison control for an overdose. The
rules know the category of what they match; without this, every message only the check found
got the emergency reply, and on the development sets that was half the suicidal ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bot.intents import ADMIN_INTENTS, FAQ_INTENTS
from bot.safety.spec import fold, load_spec
from bot.yaml_files import read_yaml

LABELS = ("urgent", "clinical", "general")
URGENT, CLINICAL, GENERAL = LABELS
# The urgent replies of messages.yml, in the order the reply regression stores them.
REPLIES = ("urgent", "crisis", "poison")
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


def load_urgent_replies(directory: Path) -> list[tuple[str, str]]:
    """(text, reply) for every urgent example with a category: the reply its category gets."""
    spec = load_spec(directory)
    pairs: list[tuple[str, str]] = []
    for path in sorted((directory / "examples").glob("*.yml")):
        for item in (read_yaml(path) or {}).get("messages", []):
            category = spec.categories.get(str(item.get("category") or ""))
            if item.get("expect") == URGENT and category and str(item.get("text") or "").strip():
                pairs.append((str(item["text"]), category.reply))
    for category in spec.categories.values():
        pairs += [(t, category.reply) for t in category.must_fire]
    return [(t, reply) for t, reply in pairs if reply in REPLIES]


@dataclass
class SafetyClassifier:
    """Char n-gram vocabulary and idf, and the logistic regression's weights."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    labels: tuple[str, ...] = LABELS
    # Which urgent reply (REPLIES order); None in models trained before it existed.
    reply_coef: np.ndarray | None = None
    reply_intercept: np.ndarray | None = None

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

    def fit_replies(
        self, texts: list[str], replies: list[str], embeddings: np.ndarray, c: float = 4.0
    ) -> None:
        """Fits the reply regression on urgent examples (text, its category's reply)."""
        from bot.safety.block_logistic import DenseSparseFeatures, fit_multinomial

        grams = self._tfidf(texts, self._fitted_vectorizer())
        model = fit_multinomial(DenseSparseFeatures(embeddings, grams), replies, c, 5000)
        order = [model.classes.index(reply) for reply in REPLIES]
        self.reply_coef, self.reply_intercept = model.coef[order], model.intercept[order]

    def proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Probabilities per text, columns in :data:`LABELS` order."""
        return self._softmax(texts, embeddings, self.coef, self.intercept)

    def reply_proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray | None:
        """Probabilities per text, columns in :data:`REPLIES` order; None without the model."""
        if self.reply_coef is None or self.reply_intercept is None:
            return None
        return self._softmax(texts, embeddings, self.reply_coef, self.reply_intercept)

    def _softmax(
        self, texts: list[str], embeddings: np.ndarray, coef: np.ndarray, intercept: np.ndarray
    ) -> np.ndarray:
        vectorizer = self._fitted_vectorizer()
        # The dense and the sparse block scored apart: the same sum as on the stacked training
        # features, without building a sparse copy of the dense embeddings.
        width = embeddings.shape[1]
        scores = np.asarray(embeddings, dtype=np.float64) @ coef[:, :width].T
        scores += np.asarray(self._tfidf(texts, vectorizer) @ self._gram_weights(coef, width))
        scores += intercept
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

    def _gram_weights(self, coef: np.ndarray, width: int) -> np.ndarray:
        # Contiguous once per weight matrix: scipy copies a transposed view on every sparse
        # product (~1 ms).
        cache = self.__dict__.setdefault("_gram_cache", {})
        cached = cache.get(id(coef))
        if cached is not None and cached[0] is coef and cached[1] == width:
            return cached[2]
        block = np.ascontiguousarray(coef[:, width:].T)
        cache[id(coef)] = (coef, width, block)
        return block

    def _fitted_vectorizer(self):  # noqa: ANN202 - sklearn's type
        # Built once: constructing it from the vocabulary costs more than a prediction.
        if getattr(self, "_vectorizer_cache", None) is None:
            vectorizer = _vectorizer(self.vocabulary)
            vectorizer.idf_ = self.idf
            self._vectorizer_cache = vectorizer
        return self._vectorizer_cache

    def save(self, directory: Path) -> None:
        replies = {}
        if self.reply_coef is not None and self.reply_intercept is not None:
            replies = {"reply_coef": self.reply_coef, "reply_intercept": self.reply_intercept}
        np.savez(directory / "safety_classifier.npz", idf=self.idf, coef=self.coef,
                 intercept=self.intercept, **replies)  # fmt: skip
        (directory / "safety_vocabulary.json").write_text(json.dumps(self.vocabulary))

    @classmethod
    def load(cls, directory: Path) -> SafetyClassifier:
        with np.load(directory / "safety_classifier.npz", allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        vocabulary = json.loads((directory / "safety_vocabulary.json").read_text())
        replies = [arrays.get(name) for name in ("reply_coef", "reply_intercept")]
        return cls(vocabulary, arrays["idf"], arrays["coef"], arrays["intercept"], LABELS,
                   *replies)  # fmt: skip


def general_sentences(examples: list[tuple[str, str]], not_general: set[str]) -> list[str]:
    """The sentences of FAQ and admin examples (intent, text) of several sentences, as general
    examples of their own, except any that is itself an urgent or clinical example.

    The check also judges each sentence of a message alone, and without these a lone "I have to
    pick the kids up at 3." read like the first-person narratives of the urgent examples (on a
    new development set, this check gave 9 of 175 booking and FAQ questions the urgent reply;
    5 with these). Only plain questions and requests: the sentences of the safety examples'
    general messages (history, hearsay, alarming questions) sit too close to reports, and adding
    them cost indirect suicidal messages; small talk and requests for a person may carry a
    report ("I need a person. I can't see properly."), and a sentence of an urgent or personal
    message may be neither."""
    return list(dict.fromkeys(
        sentence for intent, text in examples if intent in FAQ_INTENTS | ADMIN_INTENTS
        for sentence in units(text)[1:] if sentence not in not_general
    ))  # fmt: skip


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
