"""The safety layer as a Rasa graph component, placed after the intent classifier.

Three checks, each of which can only move a prediction towards a person:

- the **rules** of ``data/safety/`` (clinician-reviewed patterns, clause by clause), and
- the **learned check** (:mod:`bot.safety.classifier`, trained here on ``data/safety/examples``
  and the NLU data) make a message ``report_urgent_symptoms``; rules *or* classifier suffice;
- personal clinical context (rules, or the classifier's clinical class) turns an FAQ prediction
  into ``clinical_question``, keeping the FAQ intent so the general answer can come first;
- a message wholly or partly in another language, not urgent, becomes ``other_language``.

The decision is recorded under ``safety`` in the parse output (``/model/parse`` and the staff
transcript show which check fired, on which clause, and the language). If the checks raise,
the message is treated as urgent with ``source: error``: nobody knows what it says.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.config import PROJECT_ROOT
from bot.intents import ADMIN_INTENTS, CLINICAL, FAQ_INTENTS, OTHER_LANGUAGE, URGENT_SYMPTOMS
from bot.rasa_server.textclean import encodable
from bot.safety import SafetyDetector
from bot.safety.classifier import CLINICAL as CLINICAL_LABEL
from bot.safety.classifier import (
    GENERAL,
    LABELS,
    REPLIES,
    SafetyClassifier,
    general_sentences,
    load_examples,
    load_urgent_replies,
    units,
)
from bot.safety.language import ENGLISH, LanguageDetector
from bot.safety.spec import load_spec

logger = logging.getLogger(__name__)

SAFETY_KEY = "safety"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafetyRules(GraphComponent):
    """Rules, a learned check and a language check that can only move a prediction to a person."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {
            # Intent set when a red-flag report is found.
            "urgent_intent": URGENT_SYMPTOMS,
            # Intent set when an FAQ prediction carries personal clinical context.
            "clinical_intent": CLINICAL,
            # Intent set for a message not in English that is not urgent.
            "language_intent": OTHER_LANGUAGE,
            # Predictions that personal clinical context may override.
            "overridable_intents": sorted(FAQ_INTENTS | {"out_of_scope"}),
            # A personal-question intent below this confidence is confirmed (to full
            # confidence) when the rules or the learned check also read it as personal; the
            # FallbackClassifier's threshold would otherwise make it "did you mean".
            "confirm_clinical_below": 0.5,
            # The red-flag specification and the learned check's examples.
            "safety_dir": "data/safety",
            # The learned check's urgent probability from which a message is urgent. Chosen
            # for recall on the development set (docs/safety.md has the precision it costs).
            "urgent_threshold": 0.5,
            # ... when the rules found red-flag words and judged them not a report (negated,
            # general, second-hand, past): the classifier must be surer to overrule them.
            "judged_threshold": 0.6,
            # ... when the message is not English: it gets a notice with the emergency number
            # and a person anyway, and MiniLM reads English only.
            "other_language_threshold": 0.6,
            # When only the intent classifier calls an English message urgent, the rules judged
            # its red-flag words not reported (a question, "if I ever...", negated) and the
            # learned check's urgent probability is below this, it is a general question.
            "intent_overruled_below": 0.2,
            # Urgent + clinical probability from which an FAQ prediction goes to staff.
            "clinical_threshold": 0.5,
            # FAQ confidence from which the general answer comes before a clinical handoff.
            "answer_first_confidence": 0.5,
            # Inverse regularisation strength of the learned check.
            "C": 4.0,
            # When only the learned check finds an emergency, the crisis line or poison control
            # replaces the emergency reply when the reply regression is this sure of it (a
            # stroke must never get the crisis line; docs/safety.md has the figures).
            "reply_threshold": 0.5,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        classifier: SafetyClassifier | None = None,
        detector: SafetyDetector | None = None,
        languages: LanguageDetector | None = None,
    ) -> None:
        """Creates the component; spaCy, lingua and MiniLM load on first use."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classifier = classifier
        self._detector = detector
        self._languages = languages

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyRules:
        """Creates a new, untrained component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SafetyRules:
        """Loads the learned check; without one, the rules work alone (and say so)."""
        classifier = None
        try:
            with model_storage.read_from(resource) as directory:
                classifier = SafetyClassifier.load(directory)
        except (ValueError, FileNotFoundError, OSError):
            logger.warning("no learned safety check in this model: the rules work alone")
        return cls(config, model_storage, resource, classifier)

    @property
    def safety_dir(self) -> Path:
        path = Path(self.config["safety_dir"])
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def detector(self) -> SafetyDetector:
        if self._detector is None:
            self._detector = SafetyDetector(spec=load_spec(self.safety_dir))
        return self._detector

    @property
    def languages(self) -> LanguageDetector:
        if self._languages is None:
            self._languages = LanguageDetector()
        return self._languages

    # --- training ---------------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        """Fits the learned check on the safety examples and the NLU examples."""
        from bot.nlu.minilm import shared_encoder

        pairs = load_examples(self.safety_dir)
        texts = [t for t, _ in pairs]
        labels = [label for _, label in pairs]
        vectors = [shared_encoder().encode(texts)] if texts else []
        intent_examples = []
        for message in training_data.intent_examples:
            intent, text = message.get(INTENT), message.get(TEXT)
            dense = _sentence_vector(message)
            if not intent or not text or dense is None:
                continue
            intent_examples.append((intent, text))
            texts.append(text)
            labels.append(_label_of(intent))
            vectors.append(dense[np.newaxis, :])
        sentences = general_sentences(
            intent_examples, {t for t, label in zip(texts, labels, strict=True) if label != GENERAL}
        )
        if sentences:
            texts += sentences
            labels += [GENERAL] * len(sentences)
            vectors.append(shared_encoder().encode(sentences))
        if len(set(labels)) < len(LABELS):
            logger.warning("not enough safety examples: the rules work alone")
            return self._resource
        self.classifier = SafetyClassifier.fit(texts, labels, np.vstack(vectors), self.config["C"])
        self._fit_replies(pairs, vectors[0] if pairs else None)
        with self._model_storage.write_to(self._resource) as directory:
            self.classifier.save(directory)
        return self._resource

    def _fit_replies(self, pairs: list[tuple[str, str]], vectors: np.ndarray | None) -> None:
        """The reply regression, on the urgent examples' embeddings already computed."""
        row_of = {text: row for row, (text, _) in enumerate(pairs)}
        replies = [(t, r) for t, r in load_urgent_replies(self.safety_dir) if t in row_of]
        if vectors is None or len({r for _, r in replies}) < len(REPLIES):
            logger.warning("not enough urgent examples per reply: the learned check says urgent")
            return
        rows = vectors[[row_of[t] for t, _ in replies]]
        self.classifier.fit_replies([t for t, _ in replies], [r for _, r in replies], rows,
                                    self.config["C"])  # fmt: skip

    # --- inference --------------------------------------------------------------------------
    def process(self, messages: list[Message]) -> list[Message]:
        """Applies the checks to each message's predicted intent."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            try:
                self._apply(message, encodable(text))
            except Exception:  # noqa: BLE001 - a failed check must never pass as "no red flag"
                logger.critical("the safety checks failed; treating the message as urgent",
                                exc_info=True)  # fmt: skip
                _set(message, self.config["urgent_intent"], {"fired": True, "source": "error",
                     "rule": "safety check failed", "reply": "urgent"})  # fmt: skip
        return messages

    def _apply(self, message: Message, text: str) -> None:
        original = message.get(INTENT) or {}
        predicted = original.get(INTENT_NAME_KEY)
        confidence = float(original.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        doc = self.detector.parse(text)
        guess = self.languages.guess(text)
        probabilities = self._probabilities(message, text)
        p_urgent = float(probabilities[0, 0]) if probabilities is not None else None
        base = {
            "fired": True,
            "original_intent": predicted,
            "original_confidence": confidence,
            "language": guess.other_language or ENGLISH,
            "urgent_probability": None if p_urgent is None else round(p_urgent, 4),
            "clinical_probability": (
                None if probabilities is None else round(float(probabilities[1, 1]), 4)
            ),
        }
        match = self.detector.urgent(doc)
        if match is not None:
            category = self.detector.spec.categories[match.rule]
            found = {"source": "rules", "rule": match.rule, "category": match.rule}
            where = {"matched": match.phrase, "clause": match.clause}
            _set(message, self.config["urgent_intent"], {**base, **found, **where,
                 "reply": category.reply})  # fmt: skip
            return
        if p_urgent is not None and p_urgent >= self._urgent_threshold(doc, guess):
            found = {"source": "classifier", "rule": "learned check", **self._reply(message, text)}
            _set(message, self.config["urgent_intent"], {**base, **found})
            return
        if (
            predicted == self.config["urgent_intent"]
            and guess.english_only
            and p_urgent is not None
            and p_urgent < self.config["intent_overruled_below"]
            and self.detector.mentions(doc)
        ):
            # Two judges that read red flags closely (the rules' scoped cues and the learned
            # check) agree that "what should I do if I ever got double vision?" reports
            # nothing: the general topic, or a person when there is no clear one.
            topic = _next_answerable(message, self.config["urgent_intent"])
            found = {"source": "judged", "rule": "red flag asked about, not reported"}
            _set(message, topic or self.config["clinical_intent"], {**base, **found})
            return
        if predicted == self.config["urgent_intent"] and not guess.english_only:
            # The intent classifier found an emergency in a message not (only) in English: the
            # language check must not move it to a notice, and the fallback after us must not
            # turn a low confidence into "did you mean": urgent, at full confidence.
            found = {"source": "intent", "rule": "intent classifier", "reply": "urgent"}
            _set(message, self.config["urgent_intent"], {**base, **found})
            return
        understood = predicted in FAQ_INTENTS | ADMIN_INTENTS and confidence >= 0.5
        if guess.language != ENGLISH or (not guess.english_only and not understood):
            # Not understood in English: never "out of scope" or "did you mean", a notice in
            # the patient's language and a person instead.
            found = {"source": "language", "rule": f"language {base['language']}"}
            _set(message, self.config["language_intent"], {**base, **found})
            return
        unsure_clinical = (
            predicted == self.config["clinical_intent"]
            and confidence < self.config["confirm_clinical_below"]
        )
        if predicted in set(self.config["overridable_intents"]) or unsure_clinical:
            # An unsure "personal question" that the rules or the learned check confirm is
            # made sure: the fallback after us would turn it into "did you mean ...?", and a
            # personal question must reach a person ("I work nights. Does sleep deprivation
            # make Botox less effective for someone like me?": classifier 0.25, check 0.94).
            found = self._personal_context(doc, probabilities)
            if found is not None:
                threshold = self.config["answer_first_confidence"]
                found["answer_first"] = predicted in FAQ_INTENTS and confidence >= threshold
                _set(message, self.config["clinical_intent"], {**base, **found})
                return
        message.set(SAFETY_KEY, {**base, "fired": False}, add_to_output=True)

    def _urgent_threshold(self, doc: Any, guess: Any) -> float:
        threshold = self.config["urgent_threshold"]
        if self.detector.mentions(doc):
            threshold = max(threshold, self.config["judged_threshold"])
        if not guess.english_only:
            threshold = max(threshold, self.config["other_language_threshold"])
        return threshold

    def _personal_context(self, doc: Any, probabilities: np.ndarray | None) -> dict | None:
        """Why the message is a personal clinical question (rules first), or None."""
        clinical = self.detector.clinical(doc)
        if clinical is not None:
            where = {"matched": clinical.phrase, "clause": clinical.clause}
            return {"source": "rules", "rule": clinical.rule, **where}
        if probabilities is not None and (
            float(probabilities[1, 0] + probabilities[1, 1]) >= self.config["clinical_threshold"]
        ):
            return {"source": "classifier", "rule": "learned check (clinical)"}
        return None

    def _probabilities(self, message: Message, text: str) -> np.ndarray | None:
        """Two rows of [urgent, clinical, general]: the most urgent unit's (message or sentence),
        then the most personal unit's (highest urgent + clinical). Every sentence is judged for
        both: "are people on immunosuppressants allowed? I'm on methotrexate" is personal in its
        second sentence, and the first, most urgent one, said nothing of it."""
        if self.classifier is None:
            return None
        pieces, vectors = _units(message, text)
        rows = self.classifier.proba(pieces, vectors)
        most_urgent = int(np.argmax(rows[:, 0]))
        most_personal = int(np.argmax(rows[:, 0] + rows[:, 1]))
        return rows[[most_urgent, most_personal]]

    def _reply(self, message: Message, text: str) -> dict[str, Any]:
        """The urgent reply for a message only the learned check found urgent: the reply
        regression's choice for its most urgent unit when sure enough, else the emergency one."""
        pieces, vectors = _units(message, text)
        urgent = self.classifier.proba(pieces, vectors)[:, 0]
        unit = int(np.argmax(urgent))
        replies = self.classifier.reply_proba([pieces[unit]], vectors[unit : unit + 1])
        if replies is None:
            return {"reply": "urgent"}
        best = int(np.argmax(replies[0]))
        sure = float(replies[0, best]) >= self.config["reply_threshold"]
        chosen = REPLIES[best] if sure else "urgent"
        return {"reply": chosen, "reply_probability": round(float(replies[0, best]), 4)}


def _units(message: Message, text: str) -> tuple[list[str], np.ndarray]:
    """The units the learned check judges (:func:`units`) and their MiniLM embeddings."""
    from bot.nlu.minilm import UNIT_VECTORS, shared_encoder

    pieces = units(text)
    vectors = message.get(UNIT_VECTORS)
    if vectors is None or len(vectors) != len(pieces):
        # Not featurized by MiniLMFeaturizer in this pipeline (or the text was cleaned
        # here): embed all units in one batch.
        vectors = shared_encoder().encode(pieces)
    return pieces, np.asarray(vectors)


def _next_answerable(message: Message, skip: str, minimum: float = 0.2) -> str | None:
    """The best-ranked FAQ or admin intent after ``skip``, if the classifier gave it
    ``minimum``."""
    for row in message.get("intent_ranking") or []:
        name = row.get(INTENT_NAME_KEY)
        if name != skip and name in FAQ_INTENTS | ADMIN_INTENTS:
            return name if float(row.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= minimum else None
    return None


def _label_of(intent: str) -> str:
    if intent == URGENT_SYMPTOMS:
        return LABELS[0]
    if intent == CLINICAL:
        return CLINICAL_LABEL
    return GENERAL


def _sentence_vector(message: Message) -> np.ndarray | None:
    """The MiniLM sentence embedding the featurizer put on the message, if any."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None:
        return None
    return np.asarray(sentence.features).reshape(-1)


def _set(message: Message, intent: str, safety: dict[str, Any]) -> None:
    message.set(SAFETY_KEY, safety, add_to_output=True)
    message.set(INTENT, {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0},
                add_to_output=True)  # fmt: skip
    ranking = [r for r in message.get("intent_ranking") or [] if r[INTENT_NAME_KEY] != intent]
    message.set("intent_ranking", [{INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0},
                *ranking], add_to_output=True)  # fmt: skip
