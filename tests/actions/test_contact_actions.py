"""The contact choice, the contact form's validation and end, and human mode: actions with a
fake dispatcher and tracker on a real temporary database."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk import Tracker

from actions.contact import (
    MAX_ATTEMPTS,
    ActionAskContactConsent,
    ActionContactChoice,
    ActionContactDone,
    ValidateContactForm,
    chosen_method,
    stopped,
)
from actions.human import ActionHumanMode
from bot.cases.escalations import EscalationRequest, write_escalation
from bot.db.models import Escalation
from bot.db.session import session_scope


def make(
    slots: dict | None = None,
    text: str = "",
    intent: str = "choose_contact",
    entities: list | None = None,
    loop: str | None = None,
    sender: str = "web-test",
) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 1.0}, "text": text,
              "entities": entities or [], "message_id": "m1"}  # fmt: skip
    events = [{"event": "user", "text": text, "parse_data": latest, "timestamp": 1.0}]
    return Tracker(
        sender, slots or {}, latest, events, False, None, {"name": loop} if loop else {}, "x"
    )


@pytest.fixture
def escalation_id(action_settings) -> int:
    return write_escalation(
        action_settings.database_url,
        EscalationRequest("web-test:1", "web-test", "clinical", "normal", transcript=[]),
    )


def row(action_settings, escalation_id: int) -> Escalation:
    with session_scope(action_settings.database_url) as session:
        return session.get(Escalation, escalation_id)


def events_as_slots(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.mark.parametrize(
    ("text", "entities", "method"),
    [
        ("/choose_contact", [{"entity": "contact_method", "value": "email"}], "email"),
        ("please call me back", [], "phone"),
        ("ring me", [], "phone"),
        ("email me please", [], "email"),
        ("e-mail is better", [], "email"),
        ("reply here in the chat", [], "chat"),
        ("no thanks, I'll call you", [], "none"),
        ("i will call myself", [], "none"),
        ("whatever", [], None),
    ],
)
def test_the_method_comes_from_the_button_or_the_words(text, entities, method):
    assert chosen_method(make(text=text, entities=entities)) == method


@pytest.mark.parametrize("method", ["chat", "none"])
def test_reply_here_and_no_thanks_are_stored_at_once(
    method, action_settings, escalation_id, dispatcher, domain, messages
):
    entities = [{"entity": "contact_method", "value": method}]
    events = ActionContactChoice().run(
        dispatcher, make({"escalation_id": escalation_id}, entities=entities), domain
    )
    assert row(action_settings, escalation_id).contact_method == method
    [message] = dispatcher.messages
    assert message["text"] == messages.text(f"contact_{method}")
    assert events_as_slots(events) == {"escalation_id": escalation_id, "contact_method": None}


def test_call_me_back_starts_the_form(action_settings, escalation_id, dispatcher, domain):
    events = ActionContactChoice().run(
        dispatcher, make({"escalation_id": escalation_id}, text="call me back"), domain
    )
    assert {"event": "followup", "name": "contact_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert events_as_slots(events)["contact_method"] == "phone"
    assert dispatcher.messages == []


def test_an_unclear_choice_shows_the_buttons_again(action_settings, dispatcher, domain):
    ActionContactChoice().run(dispatcher, make(text="hmm"), domain)
    [message] = dispatcher.messages
    assert len(message["buttons"]) == 4


def test_a_typed_choice_without_a_handoff_first_opens_one(action_settings, dispatcher, domain):
    events = ActionContactChoice().run(dispatcher, make(text="reply here please"), domain)
    new_id = events_as_slots(events)["escalation_id"]
    assert row(action_settings, new_id).contact_method == "chat"
    assert row(action_settings, new_id).reason == "requested"


def validate(slot: str, value, slots: dict | None = None) -> tuple[dict, list]:
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    method = getattr(ValidateContactForm(), f"validate_{slot}")
    result = method(value, dispatcher, make(slots or {}, loop="contact_form"), {})
    return result, dispatcher.messages


@pytest.mark.parametrize(
    ("slot", "value", "stored"),
    [
        ("contact_name", "  Jane   Doe ", "Jane Doe"),
        ("contact_name", "李明", "李明"),
        ("contact_phone", "(212) 555-2368", "+1 212-555-2368"),
        ("contact_phone", "+44 20 7946 0018", "+44 20 7946 0018"),
        ("contact_email", "Ana@Example.org", "Ana@example.org"),
        ("contact_consent", True, True),
        ("contact_consent", "yes please", True),
        ("contact_consent", "ok", True),
        ("contact_consent", "Yes, you may.", True),
        ("contact_consent", "sure thanks", True),
    ],
)
def test_valid_answers_are_kept_normalised(action_settings, slot, value, stored):
    result, said = validate(slot, value, {"contact_attempts": 1})
    assert result[slot] == stored and said == []
    assert result["contact_attempts"] == 0


@pytest.mark.parametrize(
    ("slot", "value"),
    [
        ("contact_name", "does it hurt?"),
        ("contact_name", "call 212 555 2368"),
        ("contact_phone", "12"),
        ("contact_phone", "my number is secret"),
        ("contact_email", "ana at example"),
        ("contact_consent", "what do you mean"),
        # Consent is the whole answer, not its first word.
        ("contact_consent", "okay, what happens if I say no?"),
        ("contact_consent", "fine, actually please don't"),
    ],
)
def test_an_invalid_answer_is_asked_again_with_the_reason(action_settings, slot, value):
    result, said = validate(slot, value)
    assert result[slot] is None and result["contact_attempts"] == 1
    [message] = said
    assert "Please try again" in message["text"]


def test_the_third_invalid_answer_ends_the_form(action_settings):
    result, said = validate("contact_phone", "12", {"contact_attempts": MAX_ATTEMPTS - 1})
    assert result == {"contact_phone": None, "contact_attempts": MAX_ATTEMPTS} and said == []
    assert stopped(make({"contact_attempts": MAX_ATTEMPTS}))
    required = asyncio.run(
        ValidateContactForm().required_slots([], None, make({"contact_attempts": 3}), {})
    )
    assert required == []  # nothing left to ask: the form ends


@pytest.mark.parametrize("word", ["stop", "Never mind", "cancel", "no thanks", "forget it"])
@pytest.mark.parametrize("slot", ["contact_name", "contact_phone", "contact_email"])
def test_stop_leaves_the_form_from_any_question(action_settings, slot, word):
    result, _ = validate(slot, word)
    assert result == {slot: None, "contact_consent": False}
    assert stopped(make(result))


@pytest.mark.parametrize(
    ("method", "asked"), [("phone", "contact_phone"), ("email", "contact_email")]
)
def test_the_form_asks_for_the_address_the_patient_chose(method, asked):
    required = asyncio.run(
        ValidateContactForm().required_slots([], None, make({"contact_method": method}), {})
    )
    assert required == ["contact_name", asked, "contact_consent"]


def test_consent_question_names_the_address_with_yes_and_no(action_settings, dispatcher):
    tracker = make({"contact_phone": "+1 212-555-2368"}, loop="contact_form")
    ActionAskContactConsent().run(dispatcher, tracker, {})
    [message] = dispatcher.messages
    assert "+1 212-555-2368" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


DETAILS = {"contact_method": "phone", "contact_name": "Jane Doe",
           "contact_phone": "+1 212-555-2368", "contact_consent": True}  # fmt: skip


def test_with_consent_the_details_are_stored(
    action_settings, escalation_id, dispatcher, domain, monkeypatch
):
    sent = []
    monkeypatch.setattr("actions.contact.staff_mailer", lambda: FakeMailer(sent))
    tracker = make({**DETAILS, "escalation_id": escalation_id}, loop="contact_form")
    events = ActionContactDone().run(dispatcher, tracker, domain)
    stored = row(action_settings, escalation_id)
    assert (stored.contact_name, stored.contact_phone) == ("Jane Doe", "+1 212-555-2368")
    assert stored.contact_consent_at is not None
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert events_as_slots(events)["contact_phone"] is None  # the slots are emptied
    assert dispatcher.messages[0]["reply_metadata"]["recorded"] is True
    assert sent == [("new_contact", escalation_id)]  # the clinic's inbox: an id, no details


@pytest.mark.parametrize(
    ("slots", "reply"),
    [
        ({**DETAILS, "contact_consent": False}, "contact_cancelled"),
        ({**DETAILS, "contact_consent": None}, "contact_cancelled"),
        ({**DETAILS, "contact_phone": None, "contact_attempts": 3}, "contact_gave_up"),
    ],
)
def test_without_consent_nothing_is_stored(
    slots, reply, action_settings, escalation_id, dispatcher, domain, messages
):
    ActionContactDone().run(dispatcher, make({**slots, "escalation_id": escalation_id}), domain)
    stored = row(action_settings, escalation_id)
    assert (stored.contact_method, stored.contact_name, stored.contact_phone) == (None,) * 3
    [message] = dispatcher.messages
    assert message["text"] == messages.text(reply)


def test_a_database_failure_tells_the_patient_to_call(
    action_settings, dispatcher, domain, messages, monkeypatch
):
    def broken(*_args):
        raise OSError("database down")

    monkeypatch.setattr("actions.contact.record_contact", broken)
    ActionContactDone().run(dispatcher, make({**DETAILS, "escalation_id": 1}), domain)
    [message] = dispatcher.messages
    assert message["text"] == messages.text("contact_failed")


class FakeMailer:
    def __init__(self, sent: list) -> None:
        self.sent = sent

    def send_in_background(self, event: str, escalation_id: int) -> None:
        self.sent.append((event, escalation_id))


def test_human_mode_stays_quiet_and_marks_the_message_for_staff(
    action_settings, escalation_id, dispatcher, domain, monkeypatch
):
    sent = []
    monkeypatch.setattr("actions.human.staff_mailer", lambda: FakeMailer(sent))
    now = dt.datetime.now(dt.timezone.utc)
    monkeypatch.setattr("actions.human.clock", lambda: now)
    tracker = make({"human_mode": True, "human_mode_at": now.timestamp() - 60}, intent="greet")
    assert events_as_slots(ActionHumanMode().run(dispatcher, tracker, domain)) == {
        "quiet_for": "m1"
    }
    assert dispatcher.messages == []
    assert row(action_settings, escalation_id).patient_last_message_at is not None
    assert sent == [("patient_message", escalation_id)]


def test_human_mode_ends_after_the_timeout(action_settings, dispatcher, domain, monkeypatch):
    now = dt.datetime.now(dt.timezone.utc)
    monkeypatch.setattr("actions.human.clock", lambda: now)
    stale = now.timestamp() - 61 * 60  # clinic.yml: 60 minutes
    events = ActionHumanMode().run(dispatcher, make({"human_mode_at": stale}), domain)
    assert events_as_slots(events) == {"human_mode": False, "human_mode_at": None}
    assert dispatcher.messages[0]["reply_metadata"]["kind"] == "human"


def test_another_choice_pressed_during_the_form_ends_it_and_applies(
    action_settings, escalation_id, dispatcher, domain
):
    entities = [{"entity": "contact_method", "value": "none"}]
    tracker = make(
        {"escalation_id": escalation_id, "contact_name": "Jane Doe"},
        entities=entities,
        loop="contact_form",
    )
    events = ActionContactChoice().run(dispatcher, tracker, domain)
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert events_as_slots(events)["contact_name"] is None
    stored = row(action_settings, escalation_id)
    assert (stored.contact_method, stored.contact_name) == ("none", None)


def test_details_are_never_claimed_saved_for_a_method_without_an_address(
    action_settings, escalation_id, dispatcher, domain, messages
):
    slots = {**DETAILS, "contact_method": None, "escalation_id": escalation_id}
    ActionContactDone().run(dispatcher, make(slots), domain)
    assert row(action_settings, escalation_id).contact_phone is None
    [message] = dispatcher.messages
    assert message["text"] == messages.text("contact_cancelled")


def test_in_human_mode_a_possibly_urgent_message_in_another_language_is_not_kept_quiet(
    action_settings, dispatcher, domain
):
    latest = {"intent": {"name": "other_language", "confidence": 1.0}, "text": "estou mal",
              "entities": [], "message_id": "m9",
              "safety": {"language": "pt", "urgent_probability": 0.45}}  # fmt: skip
    events = [{"event": "user", "text": "estou mal", "parse_data": latest, "timestamp": 1.0}]
    tracker = Tracker("web-pt", {"human_mode": True}, latest, events, False, None, {}, "x")
    ActionHumanMode().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["reply_metadata"]["kind"] == "handoff"
    assert dispatcher.messages[0]["reply_metadata"]["priority"] == "urgent"


def test_the_quiet_turn_carries_the_marker_recovery_looks_for(
    action_settings, escalation_id, dispatcher, domain
):
    from bot.rasa_server.recovery import QUIET_MARKER_SLOT

    events = ActionHumanMode().run(dispatcher, make({"human_mode": True}, intent="greet"), domain)
    assert events_as_slots(events) == {QUIET_MARKER_SLOT: "m1"}


def test_an_old_choice_button_as_an_answer_ends_the_form_and_done_applies_it(
    action_settings, escalation_id, dispatcher, domain, messages
):
    from rasa_sdk.executor import CollectingDispatcher

    entities = [{"entity": "contact_method", "value": "chat"}]
    button = make({"contact_attempts": 0}, text='/choose_contact{"contact_method":"chat"}',
                  entities=entities, loop="contact_form")  # fmt: skip
    result = ValidateContactForm().validate_contact_phone(
        button.latest_message["text"], CollectingDispatcher(), button, {}
    )
    assert result == {"contact_phone": None, "contact_consent": False}
    done = make({**DETAILS, "escalation_id": escalation_id, "contact_consent": False},
                entities=entities)  # fmt: skip
    ActionContactDone().run(dispatcher, done, domain)
    assert [m["text"] for m in dispatcher.messages] == [messages.text("contact_chat")]
    stored = row(action_settings, escalation_id)
    assert (stored.contact_method, stored.contact_phone) == ("chat", None)
