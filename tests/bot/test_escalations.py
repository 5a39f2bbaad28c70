"""Escalations: written once per message, and urgent ones survive a database that is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

import bot.escalations as escalations_module
from bot.db.models import Escalation
from bot.db.session import make_engine, session_scope
from bot.escalations import EscalationRequest, EscalationWriter, write_escalation


def _request(priority: str = "urgent", key: str = "conv-1:msg-1") -> EscalationRequest:
    return EscalationRequest(
        dedup_key=key,
        conversation_id="conv-1",
        reason="urgent" if priority == "urgent" else "clinical",
        priority=priority,
        trigger_intent="report_urgent_symptoms",
        matched_rule="trouble swallowing",
        transcript=[{"who": "patient", "text": "i can't swallow", "intent": "x"}],
    )


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(escalations_module.time, "sleep", lambda _s: None)


def test_migration_creates_the_tables(database_url):
    tables = set(inspect(make_engine(database_url)).get_table_names())
    assert {"answers", "escalations", "alembic_version"} <= tables


def test_write_stores_everything_staff_need(database_url):
    escalation_id = write_escalation(database_url, _request())
    with session_scope(database_url) as session:
        row = session.get(Escalation, escalation_id)
        assert (row.priority, row.status, row.reason) == ("urgent", "open", "urgent")
        assert row.transcript[0]["text"] == "i can't swallow"
        assert row.matched_rule == "trouble swallowing"
        assert row.created_at is not None


def test_the_same_message_is_escalated_once(database_url):
    first = write_escalation(database_url, _request())
    second = write_escalation(database_url, _request())
    assert first == second
    with session_scope(database_url) as session:
        assert len(session.scalars(select(Escalation)).all()) == 1


def _unwritable_url(tmp_path: Path) -> str:
    # A directory where the database file should be: SQLite cannot open it.
    target = tmp_path / "db-is-a-directory"
    target.mkdir()
    return f"sqlite:///{target}"


def test_urgent_escalation_is_spooled_when_the_database_fails(tmp_path, database_url, caplog):
    writer = EscalationWriter(_unwritable_url(tmp_path), tmp_path / "spool")
    writer._start_retry_thread = lambda: None  # the test flushes by hand
    assert writer.write(_request()) is None
    spooled = writer.pending()
    assert len(spooled) == 1
    assert json.loads(spooled[0].read_text())["conversation_id"] == "conv-1"
    assert any(r.levelname == "CRITICAL" for r in caplog.records)

    # The database is back: the spool is written and emptied, exactly once.
    writer.database_url = database_url
    assert writer.flush_spool() == 0
    assert writer.pending() == []
    with session_scope(database_url) as session:
        rows = session.scalars(select(Escalation)).all()
        assert [(r.conversation_id, r.priority) for r in rows] == [("conv-1", "urgent")]


def test_spool_retry_thread_writes_it_in_the_background(tmp_path, database_url):
    writer = EscalationWriter(_unwritable_url(tmp_path), tmp_path / "spool")
    writer._start_retry_thread = lambda: None
    writer.write(_request())
    writer.database_url = database_url
    del writer._start_retry_thread  # the real retry loop
    writer._start_retry_thread()
    writer._retry_thread.join(timeout=10)
    assert writer.pending() == []


def test_normal_escalation_failure_is_raised_not_hidden(tmp_path):
    writer = EscalationWriter(_unwritable_url(tmp_path), tmp_path / "spool")
    with pytest.raises(SQLAlchemyError):
        writer.write(_request(priority="normal"))
    assert writer.pending() == []


@pytest.mark.parametrize(
    "sender",
    ["a/b", "../../etc/passwd", "x" * 255, "web-\u00e9\u4e2d", "back\\slash", ".", "nul\x00"],
)
def test_spool_file_names_never_come_from_the_sender_id(tmp_path, sender):
    """A sender id with '/' once raised FileNotFoundError and lost the urgent escalation."""
    spool = tmp_path / "spool"
    writer = EscalationWriter("sqlite:///" + str(tmp_path / "missing" / "db.sqlite"), spool)
    writer._start_retry_thread = lambda: None
    request = _request(key=f"{sender}:msg-1")
    assert writer._spool(request) is True
    [path] = writer.pending()
    assert path.parent == spool and path.name.startswith("escalation-")
    assert json.loads(path.read_text())["dedup_key"] == request.dedup_key


def test_a_failed_spool_write_is_logged_critical_and_not_swallowed(tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool folder should be")
    writer = EscalationWriter("sqlite:///" + str(tmp_path / "missing" / "db.sqlite"), blocker)
    with caplog.at_level("CRITICAL"):
        with pytest.raises(RuntimeError):
            writer.write(_request())
    assert "COULD NOT BE SPOOLED" in caplog.text


def test_record_urgent_is_durable_before_the_database_and_cleans_up(tmp_path, database_url):
    writer = EscalationWriter(database_url, tmp_path / "spool")
    assert writer.record_urgent(_request()) is True
    import time

    deadline = time.monotonic() + 10
    while writer.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.pending() == []
    with session_scope(database_url) as session:
        assert session.scalars(select(Escalation)).one().priority == "urgent"


def test_record_urgent_keeps_the_spool_file_while_the_database_is_down(tmp_path):
    writer = EscalationWriter(
        "sqlite:///" + str(tmp_path / "missing" / "db.sqlite"), tmp_path / "s"
    )
    writer._start_retry_thread = lambda: None
    assert writer.record_urgent(_request()) is True
    import threading

    for thread in threading.enumerate():
        if thread.name == "urgent-escalation":
            thread.join(10)
    assert len(writer.pending()) == 1
