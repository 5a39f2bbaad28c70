"""The server's understanding on a trained model: a message's questions parsed in one graph run
give what each parse alone gives, and a failure there never costs the message its parse."""

from __future__ import annotations

import pytest

from bot.rasa_server import understanding
from bot.rasa_server.questions import split_questions

pytestmark = pytest.mark.slow

TEXT = "how long does the session take and does it hurt?"


@pytest.fixture(scope="module")
def processor(trained_model):
    from bot.safety.evaluation import load_agent

    return load_agent(trained_model).processor


def _message_and_tracker(text: str):
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    return UserMessage(text=text, sender_id="t"), DialogueStateTracker.from_events("t", [])


def test_questions_parsed_together_equal_the_questions_parsed_alone(processor):
    message, tracker = _message_and_tracker(TEXT)
    parts = split_questions(TEXT)
    assert len(parts) == 2
    messages = [message, *(understanding._sibling(message, part) for part in parts)]
    together = understanding._run_graph(processor, messages, tracker, [True] * 3)
    alone = [processor._parse_message_with_graph(m, tracker, True) for m in messages]
    for batched, single in zip(together, alone, strict=True):
        assert batched["text"] == single["text"]
        assert batched["intent"]["name"] == single["intent"]["name"]
        assert batched["intent"]["confidence"] == pytest.approx(
            single["intent"]["confidence"], abs=1e-4
        )
        assert batched.get("safety", {}).get("fired") == single.get("safety", {}).get("fired")


def test_a_message_with_two_questions_records_both_topics(processor):
    message, _ = _message_and_tracker(TEXT)
    parse = understanding.understand(processor, message, None)
    assert [q["intent"] for q in parse["questions"]] == ["ask_session_length", "ask_injection_pain"]


def test_a_failing_joint_parse_falls_back_to_the_message_alone(processor, monkeypatch):
    message, _ = _message_and_tracker(TEXT)

    def broken(*args, **kwargs):
        raise RuntimeError("graph failed")

    monkeypatch.setattr(understanding, "_run_graph", broken)
    parse = understanding.understand(processor, message, None)
    assert parse["text"] == TEXT and parse["intent"]["name"]
