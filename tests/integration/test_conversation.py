"""Understanding in conversation on real servers: a follow-up answered in context, two
questions answered in order, "tell me more", and an emergency after a follow-up still urgent."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.test_end_to_end import say

pytestmark = pytest.mark.slow


def answers(replies: list[dict]) -> list[str | None]:
    return [r["metadata"].get("intent") for r in replies if r["metadata"]["kind"] == "answer"]


def test_an_elliptical_follow_up_is_answered_in_context(servers):
    sender = f"web-{uuid.uuid4().hex}"
    assert answers(say(servers, "can i drive home after the injections?", sender)) == [
        "ask_aftercare"
    ]
    assert answers(say(servers, "and gym?", sender)) == ["ask_aftercare"]


def test_a_follow_up_pointing_back_stays_on_the_last_answers_topic(servers):
    sender = f"web-{uuid.uuid4().hex}"
    assert answers(say(servers, "what are the side effects?", sender)) == ["ask_side_effects"]
    # Alone, "how long do they last" reads as the treatment schedule.
    assert answers(say(servers, "how long do they last", sender)) == ["ask_side_effects"]


def test_two_questions_get_two_answers_in_order(servers):
    replies = say(servers, "how long does the appointment take and does it hurt?")
    assert answers(replies) == ["ask_session_length", "ask_injection_pain"]


def test_tell_me_more_gives_the_guide_passages_of_the_last_answer(servers):
    sender = f"web-{uuid.uuid4().hex}"
    say(servers, "how does botox actually stop a migraine from happening", sender)
    [detail] = say(servers, "tell me more", sender)
    assert detail["metadata"]["detail"] is True
    assert detail["metadata"]["intent"] == "ask_how_it_works"
    assert all(q in detail["text"] for q in detail["metadata"]["source"]["quotes"])


def test_a_follow_up_that_reports_an_emergency_is_urgent(servers):
    sender = f"web-{uuid.uuid4().hex}"
    say(servers, "what are the common side effects?", sender)
    [reply] = say(
        servers, "and what if my eyelid is drooping and i can't swallow since the shots", sender
    )
    assert reply["metadata"]["kind"] == "urgent"
