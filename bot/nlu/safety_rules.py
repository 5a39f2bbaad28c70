"""The safety layer as a Rasa graph component, placed after the intent classifier.

Red-flag symptom reports become ``report_urgent_symptoms`` with confidence 1.0 whatever the
classifier said; personal clinical context turns an FAQ prediction into ``clinical_question``.
The decision is recorded under ``safety`` in the parse output (``/model/parse`` shows it).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.intents import CLINICAL, FAQ_INTENTS, URGENT
from bot.safety import SafetyDetector, SafetyMatch

SAFETY_KEY = "safety"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyRules(GraphComponent):
    """Deterministic spaCy rules that can only move a prediction towards a person."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {
            # Intent set when a red-flag symptom report is found.
            "urgent_intent": URGENT,
            # Intent set when an FAQ prediction carries personal clinical context.
            "clinical_intent": CLINICAL,
            # Predictions that the clinical rules may override (the FAQ intents).
            "overridable_intents": sorted(FAQ_INTENTS),
        }

    def __init__(self, config: dict[str, Any], detector: SafetyDetector | None = None) -> None:
        """Creates the component; the spaCy pipeline is built on first use."""
        self.config = {**self.get_default_config(), **config}
        self._detector = detector

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyRules:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config)

    @property
    def detector(self) -> SafetyDetector:
        if self._detector is None:
            self._detector = SafetyDetector()
        return self._detector

    def process(self, messages: list[Message]) -> list[Message]:
        """Applies the rules to each message's predicted intent."""
        for message in messages:
            text = message.get(TEXT)
            if text:
                self._apply(message, text)
        return messages

    def _apply(self, message: Message, text: str) -> None:
        original = message.get(INTENT) or {}
        original_name = original.get(INTENT_NAME_KEY)
        decision = safety_decision(
            self.detector,
            text,
            original_name,
            self.config["urgent_intent"],
            self.config["clinical_intent"],
            set(self.config["overridable_intents"]),
        )
        if decision is None:
            message.set(SAFETY_KEY, {"fired": False}, add_to_output=True)
            return
        target, match = decision
        message.set(
            SAFETY_KEY,
            {
                "fired": True,
                "rule": match.rule,
                "matched": match.phrase,
                "start": match.start_char,
                "end": match.end_char,
                "original_intent": original_name,
                "original_confidence": original.get(PREDICTED_CONFIDENCE_KEY),
            },
            add_to_output=True,
        )
        message.set(
            INTENT, {INTENT_NAME_KEY: target, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True
        )
        ranking = [r for r in message.get("intent_ranking") or [] if r[INTENT_NAME_KEY] != target]
        message.set(
            "intent_ranking",
            [{INTENT_NAME_KEY: target, PREDICTED_CONFIDENCE_KEY: 1.0}, *ranking],
            add_to_output=True,
        )


def safety_decision(
    detector: SafetyDetector,
    text: str,
    predicted_intent: str | None,
    urgent_intent: str = URGENT,
    clinical_intent: str = CLINICAL,
    overridable: set[str] | frozenset[str] = FAQ_INTENTS,
) -> tuple[str, SafetyMatch] | None:
    """The intent the rules impose on ``text`` (and why), or None to keep the prediction."""
    doc = detector.parse(text)
    match = detector.urgent(doc)
    if match is not None:
        return urgent_intent, match
    if predicted_intent in overridable:
        match = detector.clinical(doc)
        if match is not None:
            return clinical_intent, match
    return None
