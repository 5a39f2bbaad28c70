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
