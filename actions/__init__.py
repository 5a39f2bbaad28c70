"""rasa_sdk actions, one module per concern. They are thin: the work happens in ``bot``."""

from actions.answers import ActionAnswerFaq
from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff, ActionLanguageNotice
from actions.smalltalk import ActionSmalltalk
from actions.urgent import ActionUrgentSymptoms

__all__ = [
    "ActionAnswerFaq",
    "ActionFallback",
    "ActionHandoff",
    "ActionLanguageNotice",
    "ActionSmalltalk",
    "ActionUrgentSymptoms",
]
