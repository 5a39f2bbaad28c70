"""How the patient hears back after a handoff: the choice (buttons), the contact form for a
call back or an e-mail, and its end. Details are kept only with the patient's consent and are
never logged: log lines name the conversation and the escalation, nothing the patient typed."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    CONTACT,
    clock,
    escalation_request,
    escalation_writer,
    messages,
    reply,
    settings,
    staff_mailer,
)
from bot.cases.contact import Checked, check_email, check_name, check_phone
from bot.cases.patient_contact import ContactDetails, record_contact
from bot.db.models import PRIORITY_NORMAL

logger = logging.getLogger(__name__)

FORM = "contact_form"
# Invalid answers to one question before the patient is given the clinic's number instead.
MAX_ATTEMPTS = 3
# Typed words that leave the form at any point (a "no" is also caught as the deny intent).
_CANCEL = re.compile(
    r"^\s*(stop|cancel|quit|exit|no|nope|no thanks?|never ?mind|forget it|don'?t bother)"
    r"[\s.!]*$",
    re.I,
)
# Consent is the whole answer, never its first word ("okay, what if I say no?" is not a yes).
_YES = re.compile(
    r"^\s*(y|yes|yeah|yep|yup|ok|okay|sure|fine|please do|of course|that'?s fine|yes please"
    r"|yes,? (?:you )?(?:may|can)|you may|you can|go ahead)[\s.!]*(please|thanks|thank you)?"
    r"[\s.!]*$",
    re.I,
)
# Typed choices, checked in this order ("no thanks, I'll call" names a call but declines one).
_TYPED_METHODS = (
    ("none", re.compile(r"\b(no thanks|i'?ll call|i will call|myself|don'?t contact)\b", re.I)),
    ("email", re.compile(r"\be-?mail", re.I)),
    ("phone", re.compile(r"\b(call|phone|ring)", re.I)),
    ("chat", re.compile(r"\b(here|chat)\b", re.I)),
)
CONTACT_SLOTS = ("contact_name", "contact_phone", "contact_email", "contact_consent")


def button_choice(tracker: Tracker) -> str | None:
    """The method of a choice button pressed just now (not typed words)."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "contact_method":
            return str(entity.get("value"))
    return None


def chosen_method(tracker: Tracker) -> str | None:
    """The button's ``contact_method`` entity, or the method the typed words name."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "contact_method":
            return str(entity.get("value"))
    text = tracker.latest_message.get("text") or ""
    return next((method for method, words in _TYPED_METHODS if words.search(text)), None)


def stopped(tracker: Tracker) -> bool:
    """The patient said "stop" or "no", or gave too many invalid answers: the form ends."""
    return tracker.get_slot("contact_consent") is False or (
        int(tracker.get_slot("contact_attempts") or 0) >= MAX_ATTEMPTS
    )


def end_form_events(tracker: Tracker) -> list[EventType]:
    """Ends the contact form, if it is running, keeping nothing: for an emergency or a
    clinical question typed in the middle of it."""
    if not tracker.active_loop.get("name"):
        return []
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("contact_attempts", 0)] + [
        SlotSet(slot, None) for slot in CONTACT_SLOTS
    ]


def offer_choice_events(escalation_id: int | None) -> list[EventType]:
    """What a handoff sets so the patient's choice reaches its escalation."""
    return [SlotSet("escalation_id", escalation_id)]


def _ensure_escalation(tracker: Tracker) -> int | None:
    """The escalation the choice belongs to; a new "requested" one when the patient typed a
    choice without a handoff first (or the conversation started a new session since)."""
    escalation_id = tracker.get_slot("escalation_id")
    if escalation_id is not None:
        return int(escalation_id)
    return escalation_writer().write(
        escalation_request(tracker, "requested", PRIORITY_NORMAL, dedup_suffix=":contact")
    )


class ActionContactChoice(Action):
    """``action_contact_choice``: "Reply here" and "No thanks" are recorded at once; a typed
    "call me back" or "email me" starts the form; anything unclear shows the buttons again."""

    def name(self) -> str:
        return "action_contact_choice"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        method = chosen_method(tracker)
        ended = end_form_events(tracker)  # another choice pressed during the form
        if method not in ("chat", "phone", "email", "none"):
            reply(
                dispatcher,
                messages().text("contact_choice"),
                CONTACT,
                buttons=messages().button_list("contact_choice"),
            )
            return ended + [SlotSet("contact_method", None)]
        try:
            escalation_id = _ensure_escalation(tracker)
        except Exception:  # noqa: BLE001 - the patient is told how to reach the clinic
            logger.exception("contact choice for conversation %s failed", tracker.sender_id)
            escalation_id = None
        if escalation_id is None:
            reply(dispatcher, messages().text("contact_failed"), CONTACT, recorded=False)
            return ended + [SlotSet("contact_method", None)]
        if method in ("phone", "email"):
            return ended + [
                SlotSet("escalation_id", escalation_id),
                SlotSet("contact_method", method),
                FollowupAction(FORM),
            ]
        try:
            record_contact(settings().database_url, escalation_id, ContactDetails(method))
        except Exception:  # noqa: BLE001
            logger.exception("contact choice for escalation %s not saved", escalation_id)
            reply(dispatcher, messages().text("contact_failed"), CONTACT, recorded=False)
            return ended + [SlotSet("contact_method", None)]
        reply(dispatcher, messages().text(f"contact_{method}"), CONTACT, contact_method=method)
        if method == "chat":
            closed = messages().closed_note(clock())
            if closed:  # "Reply here" outside hours: when a person will actually answer
                reply(dispatcher, closed, CONTACT, closed=True)
        return ended + [SlotSet("escalation_id", escalation_id), SlotSet("contact_method", None)]


class ValidateContactForm(FormValidationAction):
    """``validate_contact_form``: name, then a phone number or an e-mail address, then consent.
    An invalid answer is asked again with the reason, at most twice; "stop" leaves."""

    def name(self) -> str:
        return "validate_contact_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if stopped(tracker):
            return []  # nothing left to ask: the SDK then ends the form (requested_slot None)
        address = (
            "contact_email" if tracker.get_slot("contact_method") == "email" else "contact_phone"
        )
        return ["contact_name", address, "contact_consent"]

    def _checked(
        self,
        slot: str,
        value: Any,
        checked: Checked,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> dict[str, Any]:
        if button_choice(tracker) or (isinstance(value, str) and _CANCEL.match(value)):
            # "stop", or another choice pressed (an old button): the form ends, nothing is
            # kept; action_contact_done applies the new choice.
            return {slot: None, "contact_consent": False}
        if checked.value is not None:
            return {slot: checked.value, "contact_attempts": 0}
        return self._invalid(slot, checked.reason or "", dispatcher, tracker)

    def _invalid(
        self, slot: str, reason: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        attempts = int(tracker.get_slot("contact_attempts") or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            return {slot: None, "contact_attempts": attempts}  # the form ends
        reply(dispatcher, messages().text("contact_try_again", reason=reason), CONTACT)
        return {slot: None, "contact_attempts": attempts}

    def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value if isinstance(value, str) else ""
        checked = check_name(text)
        if checked.value is not None and "?" in text:  # a question, not a name
            checked = Checked(None, "That looks like a question rather than a name.")
        return self._checked("contact_name", value, checked, dispatcher, tracker)

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value if isinstance(value, str) else ""
        checked = check_phone(text, messages().phone_region)
        return self._checked("contact_phone", value, checked, dispatcher, tracker)

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = value if isinstance(value, str) else ""
        return self._checked("contact_email", value, check_email(text), dispatcher, tracker)

    def validate_contact_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if button_choice(tracker):
            return {"contact_consent": False}
        if value is True or (isinstance(value, str) and _YES.match(value)):
            return {"contact_consent": True, "contact_attempts": 0}
        if isinstance(value, str) and _CANCEL.match(value):
            return {"contact_consent": False}
        return self._invalid(
            "contact_consent", messages().text("contact_consent_unclear"), dispatcher, tracker
        )


class _AskContact(Action):
    """``action_ask_<slot>``: the form's questions, as vetted messages with reply metadata."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reply(dispatcher, messages().text(f"contact_ask_{self.slot[8:]}"), CONTACT, asks=self.slot)
        return []


class ActionAskContactName(_AskContact):
    slot = "contact_name"


class ActionAskContactPhone(_AskContact):
    slot = "contact_phone"


class ActionAskContactEmail(_AskContact):
    slot = "contact_email"


class ActionAskContactConsent(_AskContact):
    slot = "contact_consent"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        address = tracker.get_slot("contact_phone") or tracker.get_slot("contact_email") or ""
        reply(
            dispatcher,
            messages().text("contact_ask_consent", contact=address),
            CONTACT,
            buttons=messages().button_list("contact_consent"),
            asks=self.slot,
        )
        return []


class ActionContactDone(Action):
    """``action_contact_done``: the form ended (finished, "stop", "no", or too many invalid
    answers). Details are stored only when the patient said yes; the slots are emptied."""

    def name(self) -> str:
        return "action_contact_done"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        events += [SlotSet(slot, None) for slot in CONTACT_SLOTS]
        events += [SlotSet("contact_attempts", 0), SlotSet("contact_method", None)]
        if button_choice(tracker):
            # Another choice pressed during the form: nothing typed so far is kept.
            return events + ActionContactChoice().run(dispatcher, tracker, domain)
        method = tracker.get_slot("contact_method")
        name = tracker.get_slot("contact_name")
        address = tracker.get_slot("contact_email" if method == "email" else "contact_phone")
        if (
            method in ("phone", "email")
            and tracker.get_slot("contact_consent") is True
            and name
            and address
        ):
            events += self._save(dispatcher, tracker, method, name, address)
        elif int(tracker.get_slot("contact_attempts") or 0) >= MAX_ATTEMPTS:
            reply(dispatcher, messages().text("contact_gave_up"), CONTACT, recorded=False)
        else:
            reply(dispatcher, messages().text("contact_cancelled"), CONTACT, recorded=False)
        return events

    def _save(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        method: str,
        name: str,
        address: str,
    ) -> list[EventType]:
        try:
            escalation_id = _ensure_escalation(tracker)
            details = ContactDetails(
                method,
                name=name,
                **({"email": address} if method == "email" else {"phone": address}),
            )
            if escalation_id is None or not record_contact(
                settings().database_url, escalation_id, details
            ):
                raise LookupError("no escalation to attach the contact details to")
        except Exception:  # noqa: BLE001 - the patient is told to call instead
            logger.exception("contact details for conversation %s not saved", tracker.sender_id)
            reply(dispatcher, messages().text("contact_failed"), CONTACT, recorded=False)
            return []
        mailer = staff_mailer()
        if mailer is not None:
            mailer.send_in_background("new_contact", escalation_id)
        text = messages().text("contact_saved", contact_name=name, contact=address)
        reply(
            dispatcher,
            text,
            CONTACT,
            recorded=True,
            contact_method=method,
            escalation_id=escalation_id,
        )
        return [SlotSet("escalation_id", escalation_id)]
