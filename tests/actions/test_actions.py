"""The custom actions with a fake dispatcher and tracker on a real temporary database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.answers import ActionAnswerFaq
from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff
from actions.smalltalk import ActionSmalltalk
from actions.urgent import ActionUrgentSymptoms
from bot.content.answers import Guide, load_answer_specs
from bot.db.models import Escalation
from bot.db.session import session_scope
from bot.intents import FAQ_INTENTS
from tests.conftest import CONTENT_DIR

GUIDE = Guide.load(CONTENT_DIR / "guide.txt")


def _escalations(database_url: str) -> list[Escalation]:
    with session_scope(database_url) as session:
        return session.scalars(select(Escalation).order_by(Escalation.id)).all()


def _only_message(dispatcher) -> dict:
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0]


@pytest.mark.parametrize("intent", sorted(FAQ_INTENTS))
def test_faq_answer_is_the_vetted_text_with_its_source(
    intent, action_settings, dispatcher, make_tracker, domain
):
    ActionAnswerFaq().run(dispatcher, make_tracker(intent), domain)
    message = _only_message(dispatcher)
    spec = next(
        s
        for s in load_answer_specs(CONTENT_DIR / "answers.yml")
        if s.intent == intent and s.status == "approved"
    )
    meta = message["reply_metadata"]
    assert message["text"] == spec.text
    assert meta["kind"] == "answer"
    assert (meta["answer_id"], meta["version"]) == (spec.answer_id, spec.version)
    assert meta["source"]["quotes"] == list(spec.quotes)
    assert all(GUIDE.contains(q) for q in meta["source"]["quotes"])


def test_serious_risks_answer_offers_to_report_symptoms_now(
    action_settings, dispatcher, make_tracker, domain
):
    ActionAnswerFaq().run(dispatcher, make_tracker("ask_serious_risks"), domain)
    payloads = [b["payload"] for b in _only_message(dispatcher)["buttons"]]
    assert "/report_urgent_symptoms" in payloads


def test_intent_without_an_answer_is_handed_over_not_improvised(
    action_settings, dispatcher, make_tracker, domain
):
    ActionAnswerFaq().run(dispatcher, make_tracker("ask_something_new"), domain)
    message = _only_message(dispatcher)
    meta = message["reply_metadata"]
    assert (meta["kind"], meta["reason"], meta["recorded"]) == ("handoff", "no_answer", True)
    assert "don't have a checked answer" in message["text"]
    assert [e.reason for e in _escalations(action_settings.database_url)] == ["no_answer"]


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        ("clinical_question", "clinical"),
        ("request_human", "requested"),
        ("ask_cost_insurance", "admin"),
        ("book_appointment", "admin"),
    ],
)
def test_handoff_records_an_escalation_and_says_what_happens_next(
    intent, reason, action_settings, dispatcher, make_tracker, domain
):
    tracker = make_tracker(intent, text="i take topiramate, is that ok")
    ActionHandoff().run(dispatcher, tracker, domain)
    message = _only_message(dispatcher)
    meta = message["reply_metadata"]
    assert meta["kind"] == "handoff" and meta["reason"] == reason and meta["recorded"]
    assert meta["contact"]["phone"] in message["text"]
    [row] = _escalations(action_settings.database_url)
    assert (row.id, row.reason, row.priority, row.status) == (
        meta["escalation_id"],
        reason,
        "normal",
        "open",
    )
    assert row.conversation_id == tracker.sender_id
    assert row.transcript[-1]["text"] == "i take topiramate, is that ok"


def test_urgent_symptoms_get_emergency_instruction_and_urgent_escalation(
    action_settings, dispatcher, make_tracker, domain
):
    safety = {"fired": True, "rule": "trouble swallowing"}
    tracker = make_tracker("report_urgent_symptoms", text="i can't swallow", safety=safety)
    ActionUrgentSymptoms().run(dispatcher, tracker, domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["kind"] == "urgent"
    assert message["reply_metadata"]["recorded"] is True
    assert "911" in message["text"]  # clinic.yml's (placeholder) emergency number
    [row] = _escalations(action_settings.database_url)
    assert (row.priority, row.reason, row.matched_rule) == (
        "urgent",
        "urgent",
        "trouble swallowing",
    )


def test_urgent_instruction_is_sent_even_when_the_database_is_down(
    action_settings, dispatcher, make_tracker, domain, monkeypatch, tmp_path
):
    import actions.urgent
    import bot.escalations as escalations_module
    from bot.escalations import EscalationWriter

    broken = tmp_path / "broken"
    broken.mkdir()
    writer = EscalationWriter(f"sqlite:///{broken}", action_settings.spool_dir)
    writer._start_retry_thread = lambda: None
    monkeypatch.setattr(actions.urgent, "escalation_writer", lambda: writer)
    monkeypatch.setattr(escalations_module.time, "sleep", lambda _s: None)

    ActionUrgentSymptoms().run(dispatcher, make_tracker("report_urgent_symptoms"), domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["kind"] == "urgent"
    assert message["reply_metadata"]["recorded"] is False
    assert "emergency" in message["text"]
    assert len(writer.pending()) == 1  # spooled, to be retried


def test_handoff_tells_the_patient_to_call_when_it_cannot_be_recorded(
    action_settings, dispatcher, make_tracker, domain, monkeypatch, tmp_path
):
    import actions.handoff
    from bot.escalations import EscalationWriter

    broken = tmp_path / "broken"
    broken.mkdir()
    monkeypatch.setattr(
        actions.handoff,
        "escalation_writer",
        lambda: EscalationWriter(f"sqlite:///{broken}", tmp_path),
    )
    ActionHandoff().run(dispatcher, make_tracker("clinical_question"), domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["recorded"] is False
    assert "couldn't pass your message on" in message["text"]


def test_first_fallback_suggests_topics_from_the_ranking(
    action_settings, dispatcher, make_tracker, domain
):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "ask_session_length", "confidence": 0.25},
        {"name": "greet", "confidence": 0.2},
        {"name": "ask_procedure", "confidence": 0.15},
    ]
    ActionFallback().run(dispatcher, make_tracker("nlu_fallback", ranking=ranking), domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["kind"] == "fallback"
    assert message["reply_metadata"]["suggestions"] == ["ask_session_length", "ask_procedure"]
    assert [b["payload"] for b in message["buttons"]] == [
        "/ask_session_length",
        "/ask_procedure",
        "/request_human",
    ]
    assert _escalations(action_settings.database_url) == []


def test_second_fallback_in_a_row_hands_over(action_settings, dispatcher, make_tracker, domain):
    previous = {
        "event": "user",
        "text": "blorp",
        "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.3}},
    }
    bot_turn = {"event": "bot", "text": "Sorry, I'm not sure I understood."}
    tracker = make_tracker("nlu_fallback", history=[previous, bot_turn])
    ActionFallback().run(dispatcher, tracker, domain)
    assert _only_message(dispatcher)["reply_metadata"]["reason"] == "fallback"
    [row] = _escalations(action_settings.database_url)
    assert row.reason == "fallback"
    assert [t["who"] for t in row.transcript] == ["patient", "bot", "patient"]


def test_greeting_has_disclaimer_and_suggestions(action_settings, dispatcher, make_tracker, domain):
    ActionSmalltalk().run(dispatcher, make_tracker("greet"), domain)
    message = _only_message(dispatcher)
    assert "not a clinician" in message["text"] and "emergency" in message["text"]
    assert len(message["buttons"]) == 4
    assert message["reply_metadata"] == {"kind": "smalltalk", "intent": "greet"}


def test_unexpected_intent_in_smalltalk_is_treated_as_out_of_scope(
    action_settings, dispatcher, make_tracker, domain
):
    ActionSmalltalk().run(dispatcher, make_tracker("something_else"), domain)
    assert _only_message(dispatcher)["reply_metadata"]["intent"] == "out_of_scope"


def test_a_resent_widget_message_does_not_open_a_second_escalation(
    action_settings, make_tracker, domain
):
    from rasa_sdk.executor import CollectingDispatcher

    for _ in range(2):  # the same client message processed twice, with new Rasa message ids
        tracker = make_tracker("report_urgent_symptoms", sender_id="web-resend")
        tracker.latest_message["metadata"] = {"client_id": "c-12345678"}
        ActionUrgentSymptoms().run(CollectingDispatcher(), tracker, domain)
    assert len(_escalations(action_settings.database_url)) == 1
