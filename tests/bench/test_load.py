"""The pure parts of the load generator: statistics, conversations, reply checks.

No servers and nothing timed: the load itself is exercised by ``bench/benchmark.py``.
"""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

import pytest

from bench.load import (
    CLINICAL,
    FAQ_ORDER,
    GOODBYE,
    GREETING,
    REQUEST_HUMAN,
    THANKS,
    Outcome,
    build_conversation,
    classify_reply,
    conversation_counts,
    latency_summary,
    patient_rng,
    percentile,
    summarize,
    texts_by_intent,
)
from bot.intents import ADMIN_INTENTS, FAQ_INTENTS


@pytest.fixture(scope="module")
def texts() -> dict[str, list[str]]:
    return texts_by_intent()


def reply(*messages: dict) -> bytes:
    return json.dumps(list(messages)).encode()


# --- statistics -----------------------------------------------------------------------------
def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [40.0, 10.0, 30.0, 20.0]  # unsorted on purpose
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 95) == pytest.approx(38.5)


def test_percentile_matches_statistics_inclusive_quantiles() -> None:
    values = [random.Random(7).uniform(1, 500) for _ in range(101)]
    cut_points = statistics.quantiles(values, n=100, method="inclusive")
    for q in (1, 50, 95, 99):
        assert percentile(values, q) == pytest.approx(cut_points[q - 1])


def test_percentile_of_one_value_and_bad_input() -> None:
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary() -> None:
    summary = latency_summary([float(v) for v in range(1, 101)])
    assert summary == {
        "n": 100,
        "p50_ms": 50.5,
        "p95_ms": 95.05,
        "p99_ms": 99.01,
        "mean_ms": 50.5,
        "max_ms": 100.0,
    }
    empty = latency_summary([])
    assert empty.pop("n") == 0
    assert set(empty.values()) == {None}


def test_summarize_counts_errors_by_type_and_times_only_successes() -> None:
    outcomes = [
        Outcome(10.0, None, "answer"),
        Outcome(20.0, None, "smalltalk"),
        Outcome(30.0, None, "answer"),
        Outcome(5000.0, "http_500"),
        Outcome(None, "timeout"),
        Outcome(None, "timeout"),
        Outcome(15.0, "kind_error", "error"),
    ]
    report = summarize(outcomes, wall_s=2.0)
    assert report["messages"] == 7
    assert report["ok"] == 3
    assert report["errors"] == 4
    assert report["errors_by_type"] == {"http_500": 1, "kind_error": 1, "timeout": 2}
    assert report["reply_kinds"] == {"answer": 2, "smalltalk": 1}
    assert report["latency_ms"]["n"] == 3
    assert report["latency_ms"]["max_ms"] == 30.0
    assert report["messages_per_s"] == 3.5


def test_conversation_counts_add_up() -> None:
    assert conversation_counts(50, 50) == [1] * 50
    assert conversation_counts(7, 3) == [3, 2, 2]
    assert conversation_counts(2, 4) == [1, 1, 0, 0]
    assert sum(conversation_counts(123, 50)) == 123


# --- reply checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (200, reply({"text": "hi", "metadata": {"kind": "answer"}}), (None, "answer")),
        (
            200,
            reply({"text": "a", "metadata": {"kind": "urgent"}}, {"metadata": {"kind": "error"}}),
            (None, "urgent"),  # only the first message decides
        ),
        (200, reply({"text": "no metadata"}), (None, None)),
        (200, reply({"text": "x", "metadata": {"kind": "error"}}), ("kind_error", "error")),
        (200, b"[]", ("empty_reply", None)),
        (200, b'{"text": "hi"}', ("not_a_list", None)),
        (200, b"[1]", ("malformed_message", None)),
        (200, b"<html>oops</html>", ("invalid_json", None)),
        (200, b"", ("invalid_json", None)),
        (500, reply({"text": "hi", "metadata": {"kind": "answer"}}), ("http_500", None)),
        (400, b'{"error": "message missing"}', ("http_400", None)),
    ],
)
def test_classify_reply(status: int, raw: bytes, expected: tuple) -> None:
    assert classify_reply(status, raw) == expected


# --- conversations --------------------------------------------------------------------------
def test_conversations_are_deterministic(texts: dict[str, list[str]]) -> None:
    first = [build_conversation(patient_rng(1, index), texts) for index in range(30)]
    again = [build_conversation(patient_rng(1, index), texts) for index in range(30)]
    other_seed = [build_conversation(patient_rng(2, index), texts) for index in range(30)]
    assert first == again
    assert first != other_seed


def test_conversations_use_only_heldout_texts_of_their_intent(
    texts: dict[str, list[str]],
) -> None:
    for index in range(200):
        for turn in build_conversation(patient_rng(3, index), texts):
            assert turn.text in texts[turn.intent]


def test_conversation_shape(texts: dict[str, list[str]]) -> None:
    conversations = [build_conversation(patient_rng(4, index), texts) for index in range(300)]
    known = set(FAQ_INTENTS) | ADMIN_INTENTS | {GREETING, THANKS, GOODBYE, CLINICAL, REQUEST_HUMAN}
    for turns in conversations:
        intents = [turn.intent for turn in turns]
        assert set(intents) <= known
        faq = [intent for intent in intents if intent in FAQ_INTENTS]
        assert 2 <= len(faq) <= 4
        assert len(set(faq)) == len(faq), "no FAQ question twice in one conversation"
        assert GREETING not in intents[1:], "a greeting only opens a conversation"
        if REQUEST_HUMAN in intents:
            closing = {THANKS, GOODBYE}
            assert all(i in closing for i in intents[intents.index(REQUEST_HUMAN) + 1 :])
    # Over many conversations every optional step occurs, and every FAQ topic is asked.
    seen = {turn.intent for turns in conversations for turn in turns}
    assert {GREETING, THANKS, GOODBYE, CLINICAL, REQUEST_HUMAN} <= seen
    assert seen & ADMIN_INTENTS
    assert set(FAQ_ORDER) <= seen


def test_missing_intent_is_reported(tmp_path: Path) -> None:
    partial = tmp_path / "partial.yml"
    partial.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="no examples for"):
        texts_by_intent(partial)
