"""rasa_sdk actions, one module per concern. They are thin: the work happens in ``bot``."""

from actions.answers import ActionAnswerFaq, ActionMoreDetail
from actions.contact import (
    ActionAskContactConsent,
    ActionAskContactEmail,
    ActionAskContactName,
    ActionAskContactPhone,
    ActionContactChoice,
    ActionContactDone,
    ValidateContactForm,
)
from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff, ActionLanguageNotice
from actions.human import ActionHumanMode
from actions.smalltalk import ActionSmalltalk
from actions.urgent import ActionUrgentSymptoms

__all__ = [
    "ActionAnswerFaq",
    "ActionAskContactConsent",
    "ActionAskContactEmail",
    "ActionAskContactName",
    "ActionAskContactPhone",
    "ActionContactChoice",
    "ActionContactDone",
    "ActionHumanMode",
    "ActionMoreDetail",
    "ValidateContactForm",
    "ActionFallback",
    "ActionHandoff",
    "ActionLanguageNotice",
    "ActionSmalltalk",
    "ActionUrgentSymptoms",
]
