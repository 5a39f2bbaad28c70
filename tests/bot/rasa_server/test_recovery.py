"""What the Rasa server sends and records when an action produced no reply."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Escalation
from bot.db.session import session_scope
from bot.rasa_server import recovery


@pytest.fixture
def recovery_settings(action_settings):
    for cached in (recovery._messages, recovery._writer):
        cached.cache_clear()
    yield action_settings
    for cached in (recovery._messages, recovery._writer):
        cached.cache_clear()


def state(intent: str, text: str = "a patient message", client_id: str = "c-1") -> dict:
    latest = {
        "intent": {"name": intent, "confidence": 0.9},
        "text": text,
        "message_id": "m-1",
        "metadata": {"client_id": client_id},
    }
    return {
        "sender_id": "recovery-test",
        "latest_message": latest,
        "events": [{"event": "user", "text": text, "parse_data": latest, "timestamp": 1.0}],
    }


@pytest.mark.parametrize(
    ("intent", "priority", "reason"),
    [
        ("report_urgent_symptoms", "urgent", "urgent"),
        ("clinical_question", "normal", "clinical"),
        ("request_human", "normal", "requested"),
        ("book_appointment", "normal", "admin"),
        ("ask_injection_pain", None, None),
        ("greet", None, None),
        ("nlu_fallback", None, None),
    ],
)
def test_only_messages_for_staff_are_escalated(recovery_settings, intent, priority, reason):
    import time

    got_priority, recorded = recovery.escalate(state(intent))
    assert got_priority == priority
    assert recorded is bool(priority)
    deadline = time.monotonic() + 10  # an urgent one is written in the background
    while True:
        with session_scope(recovery_settings.database_url) as session:
            rows = session.scalars(select(Escalation)).all()
            found = [(r.priority, r.reason) for r in rows]
            if found or not priority or time.monotonic() > deadline:
                break
        time.sleep(0.05)
    with session_scope(recovery_settings.database_url) as session:
        rows = session.scalars(select(Escalation)).all()
        assert [(r.priority, r.reason) for r in rows] == ([(priority, reason)] if priority else [])
        if priority:
            assert rows[0].dedup_key == "recovery-test:client-c-1", "same key as the actions"
            assert rows[0].transcript[0]["text"] == "a patient message"


def test_a_normal_escalation_is_spooled_when_the_database_refuses(recovery_settings, tmp_path):
    recovery._writer().database_url = f"sqlite:///{tmp_path}/missing/dir/db.sqlite"
    priority, recorded = recovery.escalate(state("clinical_question"))
    assert (priority, recorded) == ("normal", False)
    assert len(list(recovery_settings.spool_dir.glob("escalation-*.json"))) == 1


def test_the_urgent_reply_is_the_vetted_instruction(recovery_settings):
    reply = recovery.urgent_reply(False)
    assert reply["text"] == recovery._messages().text("urgent")
    assert reply["reply_metadata"]["kind"] == "urgent"
    assert reply["reply_metadata"]["recorded"] is False
    assert recovery.error_reply()["reply_metadata"] == {"kind": "error"}


def _state(*after_user: dict) -> dict:
    return {"events": [{"event": "user", "text": "hello"}, *after_user]}


@pytest.mark.parametrize(
    ("events", "quiet"),
    [
        # action_human_mode ran and set its marker: a person is replying, silence is right.
        ([{"event": "action", "name": "action_human_mode"},
          {"event": "slot", "name": "quiet_for", "value": "m1"}], True),
        # Rasa logs the action even when it failed: without the marker, the safe reply goes.
        ([{"event": "action", "name": "action_human_mode"}], False),
        ([{"event": "action", "name": "action_answer_faq"}], False),
        ([], False),
    ],
)  # fmt: skip
def test_only_a_marked_human_mode_turn_is_quiet_on_purpose(events, quiet):
    assert recovery.quiet_on_purpose(_state(*events)) is quiet


def test_a_marker_from_an_earlier_turn_does_not_count():
    state = {"events": [
        {"event": "user", "text": "first"},
        {"event": "action", "name": "action_human_mode"},
        {"event": "slot", "name": "quiet_for", "value": "m1"},
        {"event": "user", "text": "second"},
        {"event": "action", "name": "action_human_mode"},
    ]}  # fmt: skip
    assert recovery.quiet_on_purpose(state) is False
