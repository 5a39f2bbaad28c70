"""Several questions in one message and "tell me more": actions with a fake dispatcher on a
real temporary database."""

from __future__ import annotations

from actions.answers import ActionAnswerFaq, ActionMoreDetail
from actions.handoff import ActionHandoff
from bot.content.answers import load_answer_specs
from tests.helpers import CONTENT_DIR

SPECS = {spec.intent: spec for spec in load_answer_specs(CONTENT_DIR / "answers.yml")}


def kinds_and_intents(dispatcher) -> list[tuple[str, str | None]]:
    return [(m["reply_metadata"]["kind"], m["reply_metadata"].get("intent"))
            for m in dispatcher.messages]  # fmt: skip


def with_questions(tracker, *questions: tuple[str, bool]):
    tracker.latest_message["questions"] = [
        {"intent": intent, "confidence": 0.9, "personal": personal}
        for intent, personal in questions
    ]
    return tracker


def test_two_questions_get_two_answers_in_order(action_settings, dispatcher, make_tracker, domain):
    tracker = with_questions(
        make_tracker("ask_session_length"),
        ("ask_session_length", False),
        ("ask_injection_pain", False),
    )
    ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert kinds_and_intents(dispatcher) == [
        ("answer", "ask_session_length"),
        ("answer", "ask_injection_pain"),
    ]
    assert all(m["reply_metadata"]["source"]["quotes"] for m in dispatcher.messages)


def test_an_admin_question_among_them_goes_to_staff_last(
    action_settings, dispatcher, make_tracker, domain
):
    tracker = with_questions(
        make_tracker("ask_injection_pain"),
        ("ask_injection_pain", False),
        ("ask_cost_insurance", False),
    )
    ActionAnswerFaq().run(dispatcher, tracker, domain)
    kinds = [k for k, _ in kinds_and_intents(dispatcher)]
    assert kinds == ["answer", "handoff", "contact"]
    assert dispatcher.messages[1]["reply_metadata"]["reason"] == "admin"


def test_a_personal_part_gets_no_answer_and_the_handoff_comes_last(
    action_settings, dispatcher, make_tracker, domain
):
    tracker = with_questions(
        make_tracker("clinical_question", safety={"fired": True, "rule": "own medicines"}),
        ("ask_session_length", False),
        ("clinical_question", True),
    )
    ActionHandoff().run(dispatcher, tracker, domain)
    assert kinds_and_intents(dispatcher)[:2] == [
        ("answer", "ask_session_length"),
        ("handoff", None),
    ]
    assert dispatcher.messages[1]["reply_metadata"]["reason"] == "clinical"


def answered(intent: str) -> dict:
    return {"event": "bot", "text": "...", "metadata": {"reply_metadata": {
        "kind": "answer", "intent": intent}}}  # fmt: skip


def test_tell_me_more_gives_the_guide_quotes_of_the_last_answer(
    action_settings, dispatcher, make_tracker, domain, messages
):
    tracker = make_tracker("ask_more_detail", history=[answered("ask_how_it_works")])
    ActionMoreDetail().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    meta = message["reply_metadata"]
    assert (meta["kind"], meta["intent"], meta["detail"]) == ("answer", "ask_how_it_works", True)
    assert message["text"].startswith(messages.text("more_detail_intro"))
    for quote in SPECS["ask_how_it_works"].quotes:
        assert quote in message["text"]  # verbatim guide text, nothing composed


def test_tell_me_more_before_any_answer_offers_topics(
    action_settings, dispatcher, make_tracker, domain, messages
):
    ActionMoreDetail().run(dispatcher, make_tracker("ask_more_detail"), domain)
    [message] = dispatcher.messages
    assert message["text"] == messages.text("more_detail_none") and message["buttons"]
