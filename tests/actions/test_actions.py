"""The custom actions with a fake dispatcher and tracker on a real temporary database."""

from __future__ import annotations

import datetime as dt

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
from tests.helpers import CONTENT_DIR

GUIDE = Guide.load(CONTENT_DIR / "guide.txt")


def _escalations(database_url: str) -> list[Escalation]:
    with session_scope(database_url) as session:
        return session.scalars(select(Escalation).order_by(Escalation.id)).all()


CONTACT_CHOICES = ["Reply here in the chat", "Call me back", "Email me", "No thanks, I'll call"]


def _only_message(dispatcher) -> dict:
    """The one reply; after a recorded handoff, also the question how to hear back."""
    messages = list(dispatcher.messages)
    if messages and messages[-1]["reply_metadata"]["kind"] == "contact":
        choice = messages.pop()
        assert [b["title"] for b in choice["buttons"]] == CONTACT_CHOICES
        assert messages[-1]["reply_metadata"]["kind"] == "handoff"
        assert choice["reply_metadata"]["escalation_id"] == messages[-1]["reply_metadata"].get(
            "escalation_id"
        )
    assert len(messages) == 1
    return messages[0]


def _answer_and_note(dispatcher) -> tuple[dict, dict | None]:
    """The answer, and the clinic message sent right after it for some topics."""
    messages = list(dispatcher.messages)
    assert 1 <= len(messages) <= 2 and messages[0]["reply_metadata"]["kind"] == "answer"
    return messages[0], (messages[1] if len(messages) == 2 else None)


@pytest.mark.parametrize("intent", sorted(FAQ_INTENTS))
def test_faq_answer_is_the_vetted_text_with_its_source(
    intent, action_settings, dispatcher, make_tracker, domain
):
    ActionAnswerFaq().run(dispatcher, make_tracker(intent), domain)
    message, _ = _answer_and_note(dispatcher)
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


def test_serious_risks_answer_says_what_to_do_and_offers_to_report_symptoms_now(
    action_settings, dispatcher, make_tracker, domain
):
    from bot.content.messages import Messages

    ActionAnswerFaq().run(dispatcher, make_tracker("ask_serious_risks"), domain)
    answer, note = _answer_and_note(dispatcher)
    messages = Messages.load(CONTENT_DIR)
    assert note is not None and note["text"] == messages.text("risk_what_to_do")
    assert messages.clinic["emergency_number"] in note["text"]
    assert note["reply_metadata"] == {"kind": "smalltalk", "note_for": "ask_serious_risks"}
    assert "/report_urgent_symptoms" in [b["payload"] for b in note["buttons"]]
    assert not answer["buttons"]  # the buttons come after what to do


def test_side_effects_answer_points_to_the_serious_risks(
    action_settings, dispatcher, make_tracker, domain
):
    ActionAnswerFaq().run(dispatcher, make_tracker("ask_side_effects"), domain)
    _, note = _answer_and_note(dispatcher)
    assert note is not None and "serious risks" in note["text"]
    assert [b["payload"] for b in note["buttons"]] == ["/ask_serious_risks"]


def test_the_source_shows_no_reviewer_until_someone_signs(
    action_settings, dispatcher, make_tracker, domain
):
    from actions.answers import answer_source
    from bot.content.answers import is_signed

    ActionAnswerFaq().run(dispatcher, make_tracker("ask_procedure"), domain)
    answer, _ = _answer_and_note(dispatcher)
    assert "reviewer" not in answer["reply_metadata"]["source"]
    assert "reviewed_on" not in answer["reply_metadata"]["source"]

    class Signed:
        section, quotes = "The Treatment Process", ["q"]
        reviewer, reviewed_on = "Dr A. Example", dt.date(2026, 12, 1)

    assert answer_source(Signed())["reviewer"] == "Dr A. Example"
    assert answer_source(Signed())["reviewed_on"] == "2026-12-01"
    assert not is_signed("PLACEHOLDER clinical reviewer") and not is_signed("")


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


def _wait_for_escalations(database_url: str, count: int = 1, timeout: float = 10.0) -> list:
    """Urgent escalations are written in the background, after the reply."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        rows = _escalations(database_url)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_urgent_symptoms_get_emergency_instruction_and_urgent_escalation(
    action_settings, dispatcher, make_tracker, domain
):
    safety = {"fired": True, "rule": "distant_spread", "reply": "urgent", "source": "rules"}
    tracker = make_tracker("report_urgent_symptoms", text="i can't swallow", safety=safety)
    ActionUrgentSymptoms().run(dispatcher, tracker, domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["kind"] == "urgent"
    assert message["reply_metadata"]["recorded"] is True  # durable in the spool at once
    assert "911" in message["text"]  # clinic.yml's (placeholder) emergency number
    [row] = _wait_for_escalations(action_settings.database_url)
    assert (row.priority, row.reason, row.matched_rule) == ("urgent", "urgent", "distant_spread")
    deadline = __import__("time").monotonic() + 5
    while list(action_settings.spool_dir.glob("escalation-*.json")):
        assert __import__("time").monotonic() < deadline, "the spool file is removed once written"
        __import__("time").sleep(0.05)


@pytest.mark.parametrize(
    ("reply_key", "number_key"), [("crisis", "crisis_line"), ("poison", "poison_control")]
)
def test_crisis_and_poisoning_get_their_own_reply_and_number(
    action_settings, dispatcher, make_tracker, domain, reply_key, number_key
):
    from actions.common import messages

    safety = {"fired": True, "rule": "x", "reply": reply_key, "source": "rules"}
    ActionUrgentSymptoms().run(
        dispatcher, make_tracker("report_urgent_symptoms", safety=safety), domain
    )
    message = _only_message(dispatcher)
    clinic = messages().clinic
    assert message["text"] == messages().text(reply_key)
    assert clinic[number_key] in message["text"] and clinic["emergency_number"] in message["text"]
    assert message["reply_metadata"][number_key] == clinic[number_key]
    assert message["reply_metadata"]["urgent_reply"] == reply_key
    assert _wait_for_escalations(action_settings.database_url)[0].priority == "urgent"


@pytest.mark.parametrize("reply_key", ["crisis", "poison"])
def test_a_reply_the_learned_check_chose_comes_with_the_emergency_instruction(
    action_settings, dispatcher, make_tracker, domain, reply_key
):
    from actions.common import messages

    safety = {"fired": True, "rule": "learned check", "reply": reply_key, "source": "classifier",
              "reply_probability": 0.7}  # fmt: skip
    ActionUrgentSymptoms().run(
        dispatcher, make_tracker("report_urgent_symptoms", safety=safety), domain
    )
    message = _only_message(dispatcher)
    assert message["text"] == f"{messages().text(reply_key)}\n\n{messages().text('urgent')}"
    assert message["reply_metadata"]["urgent_reply"] == reply_key
    assert _wait_for_escalations(action_settings.database_url)[0].priority == "urgent"


def test_a_spanish_report_gets_the_spanish_reply_first_then_the_english_one(
    action_settings, dispatcher, make_tracker, domain
):
    from actions.common import messages

    safety = {"fired": True, "rule": "x", "reply": "urgent", "source": "rules", "language": "es"}
    ActionUrgentSymptoms().run(
        dispatcher, make_tracker("report_urgent_symptoms", safety=safety), domain
    )
    text = _only_message(dispatcher)["text"]
    spanish = messages().translated("urgent", "es")
    assert spanish and text == f"{spanish}\n\n{messages().text('urgent')}"


def test_a_failed_safety_check_gets_the_error_reply_and_an_urgent_escalation(
    action_settings, dispatcher, make_tracker, domain
):
    from actions.common import messages

    safety = {"fired": True, "rule": "safety check failed", "source": "error"}
    ActionUrgentSymptoms().run(
        dispatcher, make_tracker("report_urgent_symptoms", safety=safety), domain
    )
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["kind"] == "error"
    assert message["text"] == messages().text("error")
    assert messages().clinic["emergency_number"] in message["text"]
    [row] = _wait_for_escalations(action_settings.database_url)
    assert (row.priority, row.matched_rule) == ("urgent", "safety check failed")


def test_urgent_instruction_is_sent_even_when_the_database_is_down(
    action_settings, dispatcher, make_tracker, domain, monkeypatch, tmp_path
):
    import actions.urgent
    import bot.cases.escalations as escalations_module
    from bot.cases.escalations import EscalationWriter

    broken = tmp_path / "broken"
    broken.mkdir()
    writer = EscalationWriter(f"sqlite:///{broken}", action_settings.spool_dir)
    writer._start_retry_thread = lambda: None
    monkeypatch.setattr(actions.urgent, "escalation_writer", lambda: writer)
    monkeypatch.setattr(escalations_module.time, "sleep", lambda _s: None)

    ActionUrgentSymptoms().run(dispatcher, make_tracker("report_urgent_symptoms"), domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["kind"] == "urgent"
    assert message["reply_metadata"]["recorded"] is True  # safe on disk
    assert "emergency" in message["text"]
    assert len(writer.pending()) == 1  # spooled, to be retried


def test_the_urgent_reply_does_not_wait_for_the_database(
    action_settings, dispatcher, make_tracker, domain, monkeypatch
):
    """A database that hangs (a lock, a slow network) must not hold the instruction back."""
    import threading
    import time

    import actions.urgent
    from bot.cases.escalations import EscalationWriter

    release = threading.Event()

    class Hanging(EscalationWriter):
        def write(self, request, spool_on_failure=True):
            release.wait(30)
            return super().write(request, spool_on_failure)

    writer = Hanging(action_settings.database_url, action_settings.spool_dir)
    monkeypatch.setattr(actions.urgent, "escalation_writer", lambda: writer)
    started = time.monotonic()
    ActionUrgentSymptoms().run(dispatcher, make_tracker("report_urgent_symptoms"), domain)
    elapsed = time.monotonic() - started
    assert _only_message(dispatcher)["reply_metadata"]["kind"] == "urgent"
    assert elapsed < 5, "the reply waited for the database"
    assert len(writer.pending()) == 1, "durable before the reply"
    release.set()
    assert len(_wait_for_escalations(action_settings.database_url)) == 1


def test_clinical_question_on_an_faq_topic_gets_the_general_answer_then_the_handoff(
    action_settings, dispatcher, make_tracker, domain
):
    safety = {"fired": True, "rule": "own symptom", "source": "rules",
              "original_intent": "ask_side_effects", "answer_first": True}  # fmt: skip
    tracker = make_tracker(
        "clinical_question", text="i still have a bruise, normal?", safety=safety
    )
    ActionHandoff().run(dispatcher, tracker, domain)
    kinds = [m["reply_metadata"]["kind"] for m in dispatcher.messages]
    # The answer, its pointer to the serious risks, then the person.
    assert kinds == ["answer", "smalltalk", "handoff", "contact"]
    assert dispatcher.messages[0]["reply_metadata"]["intent"] == "ask_side_effects"
    assert dispatcher.messages[2]["reply_metadata"]["reason"] == "clinical"
    assert [r.reason for r in _escalations(action_settings.database_url)] == ["clinical"]


def test_clinical_question_without_a_confident_topic_gets_the_handoff_alone(
    action_settings, dispatcher, make_tracker, domain
):
    safety = {"fired": True, "rule": "own medicines", "original_intent": "ask_side_effects",
              "answer_first": False}  # fmt: skip
    ActionHandoff().run(dispatcher, make_tracker("clinical_question", safety=safety), domain)
    assert [m["reply_metadata"]["kind"] for m in dispatcher.messages] == ["handoff", "contact"]


@pytest.mark.parametrize("language", ["es", "pt", "fr", "de", "it", "pl", "nl", "vi", "zh", "ar"])
def test_a_message_in_another_language_gets_the_notice_in_it_and_goes_to_staff(
    action_settings, dispatcher, make_tracker, domain, language
):
    from actions.common import messages
    from actions.handoff import ActionLanguageNotice

    safety = {"fired": True, "source": "language", "language": language}
    ActionLanguageNotice().run(dispatcher, make_tracker("other_language", safety=safety), domain)
    message = _only_message(dispatcher)
    notice = messages().translated("language_notice", language)
    assert notice and message["text"].startswith(notice)
    assert messages().clinic["emergency_number"] in notice
    assert message["text"].endswith(messages().text("handoff_language"))
    assert message["reply_metadata"]["reason"] == "language"
    assert [r.reason for r in _escalations(action_settings.database_url)] == ["language"]


def test_handoff_tells_the_patient_to_call_when_it_cannot_be_recorded(
    action_settings, dispatcher, make_tracker, domain, monkeypatch, tmp_path
):
    import actions.handoff
    from bot.cases.escalations import EscalationWriter

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
        _wait_for_escalations(action_settings.database_url)
    assert len(_escalations(action_settings.database_url)) == 1


@pytest.mark.parametrize(("probability", "priority"), [(0.45, "urgent"), (0.05, "normal")])
def test_a_message_in_another_language_that_may_be_urgent_reaches_staff_as_urgent(
    action_settings, dispatcher, make_tracker, domain, probability, priority
):
    from actions.handoff import ActionLanguageNotice

    safety = {"fired": True, "source": "language", "language": "de",
              "urgent_probability": probability}  # fmt: skip
    ActionLanguageNotice().run(dispatcher, make_tracker("other_language", safety=safety), domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["priority"] == priority
    assert message["reply_metadata"]["recorded"] is True
    [row] = _wait_for_escalations(action_settings.database_url)
    assert (row.reason, row.priority) == ("language", priority)


def test_an_urgent_language_handoff_that_cannot_be_recorded_still_tells_the_patient(
    action_settings, dispatcher, make_tracker, domain, monkeypatch
):
    import actions.handoff
    from actions.handoff import ActionLanguageNotice

    class DiskFull:
        def record_urgent(self, request):
            raise OSError("No space left on device")

    monkeypatch.setattr(actions.handoff, "escalation_writer", lambda: DiskFull())
    safety = {"fired": True, "source": "language", "language": "de",
              "urgent_probability": 0.9}  # fmt: skip
    ActionLanguageNotice().run(dispatcher, make_tracker("other_language", safety=safety), domain)
    message = _only_message(dispatcher)
    assert message["reply_metadata"]["recorded"] is False
    assert "couldn't pass your message on" in message["text"]


SATURDAY_NIGHT = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.timezone.utc)  # Sat 22:00 New York


def test_a_handoff_when_the_clinic_is_closed_says_when_a_person_will_read_it(
    action_settings, dispatcher, make_tracker, domain, monkeypatch, messages
):
    monkeypatch.setattr("actions.handoff.clock", lambda: SATURDAY_NIGHT)
    ActionHandoff().run(dispatcher, make_tracker("request_human"), domain)
    first, second, choice = dispatcher.messages
    assert choice["reply_metadata"]["kind"] == "contact"
    assert first["reply_metadata"]["recorded"] is True
    assert second["reply_metadata"] == {"kind": "handoff", "reason": "requested", "closed": True}
    assert "Monday at 8:00 am" in second["text"] and "soon" not in second["text"]
    assert " ".join(second["text"].split()) in messages.all_texts()  # vetted, opening filled in


def test_the_urgent_reply_never_depends_on_the_hours(
    action_settings, dispatcher, make_tracker, domain, monkeypatch
):
    monkeypatch.setattr("actions.handoff.clock", lambda: SATURDAY_NIGHT)
    ActionUrgentSymptoms().run(dispatcher, make_tracker("report_urgent_symptoms"), domain)
    assert not any(m["reply_metadata"].get("closed") for m in dispatcher.messages)
    assert all("when we open" not in (m["text"] or "") for m in dispatcher.messages)
    _wait_for_escalations(action_settings.database_url)
