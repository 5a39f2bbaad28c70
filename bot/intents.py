"""The intent taxonomy. Clinic reporting depends on these exact names."""

from __future__ import annotations

FAQ_INTENTS = frozenset(
    {
        "ask_how_it_works",
        "ask_procedure",
        "ask_first_visit",
        "ask_session_length",
        "ask_injection_pain",
        "ask_aftercare",
        "ask_when_results",
        "ask_treatment_schedule",
        "ask_side_effects",
        "ask_serious_risks",
        "ask_eligibility",
        "ask_is_it_a_cure",
        "ask_other_services",
    }
)
# Intents answered with a vetted answer from the guide.
ANSWERED_INTENTS = FAQ_INTENTS
ADMIN_INTENTS = frozenset({"ask_cost_insurance", "book_appointment"})
CLINICAL = "clinical_question"
URGENT_SYMPTOMS = "report_urgent_symptoms"
SAFETY_INTENTS = frozenset({CLINICAL, URGENT_SYMPTOMS})
SMALLTALK_INTENTS = frozenset(
    {"greet", "goodbye", "thank", "bot_challenge", "affirm", "deny", "out_of_scope"}
)
REQUEST_HUMAN = "request_human"
# Set by the safety layer for a message not in English (bot.safety.language); never predicted.
OTHER_LANGUAGE = "other_language"
NLU_FALLBACK = "nlu_fallback"
# Only from the buttons offered after a handoff (payload ``/choose_contact{"contact_method": …}``).
CHOOSE_CONTACT = "choose_contact"
# "Tell me more", "why?": the guide's own words behind the last answer.
MORE_DETAIL = "ask_more_detail"
ALL_INTENTS = FAQ_INTENTS | ADMIN_INTENTS | SAFETY_INTENTS | SMALLTALK_INTENTS
ALL_INTENTS |= {REQUEST_HUMAN, OTHER_LANGUAGE, CHOOSE_CONTACT, MORE_DETAIL}


def handoff_reason(intent: str) -> str:
    """The escalation reason staff filter by."""
    if intent == CLINICAL:
        return "clinical"
    if intent == REQUEST_HUMAN:
        return "requested"
    if intent in ADMIN_INTENTS:
        return "admin"
    if intent == OTHER_LANGUAGE:
        return "language"
    return "fallback"
