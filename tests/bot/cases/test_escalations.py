"""Escalations: written once per message, and urgent ones survive a database that is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

import bot.cases.escalations as escalations_module
from bot.cases.escalations import EscalationRequest, EscalationWriter, write_escalation
from bot.db.models import Escalation
from bot.db.session import make_engine, session_scope


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
    _wait_until(lambda: not writer.pending() and writer._retry_thread is None)
    assert writer.pending() == []


def _wait_until(condition, timeout_s: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


class _RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    def send_in_background(self, escalation_id: int, reason: str) -> None:
        self.sent.append((escalation_id, reason))


def test_a_resent_urgent_message_is_announced_once(tmp_path, database_url):
    notifier = _RecordingNotifier()
    writer = EscalationWriter(database_url, tmp_path / "spool", notifier)
    first = writer.write(_request())
    assert writer.write(_request()) == first
    assert notifier.sent == [(first, "urgent")]


def test_flush_after_a_background_write_does_not_fail_and_announces_at_least_once(
    tmp_path, database_url, monkeypatch
):
    """The background write and the retry loop can both reach one spool file."""
    notifier = _RecordingNotifier()
    writer = EscalationWriter(database_url, tmp_path / "spool", notifier)
    assert writer._spool(_request(), start_retry=False)
    written = writer.write(_request())  # the background write: inserts and announces
    real_insert = escalations_module.insert_escalation

    def insert_then_lose_the_file(url, request):
        result = real_insert(url, request)
        writer.spool_path(request.dedup_key).unlink()  # ... and removes the file first
        return result

    monkeypatch.setattr(escalations_module, "insert_escalation", insert_then_lose_the_file)
    assert writer.flush_spool() == 0
    # Still spooled means nobody can know it was announced: a second page beats none.
    assert notifier.sent == [(written, "urgent"), (written, "urgent")]


def test_the_retry_loop_leaves_a_file_its_background_write_is_on(tmp_path, database_url):
    notifier = _RecordingNotifier()
    writer = EscalationWriter(database_url, tmp_path / "spool", notifier)
    request = _request()
    assert writer._spool(request, start_retry=False)
    writer._in_flight.add(writer.spool_path(request.dedup_key).name)
    assert writer.flush_spool() == 1  # waiting for its own write, not written twice
    assert notifier.sent == []


def test_a_write_whose_first_attempt_failed_is_announced_even_if_it_had_landed(
    tmp_path, database_url, monkeypatch
):
    """A commit can succeed and its acknowledgement be lost: the retry then finds the row."""
    from sqlalchemy.exc import OperationalError

    notifier = _RecordingNotifier()
    writer = EscalationWriter(database_url, tmp_path / "spool", notifier)
    real_insert = escalations_module.insert_escalation
    calls = []

    def commit_then_lose_the_answer(url, request):
        calls.append(1)
        result = real_insert(url, request)
        if len(calls) == 1:
            raise OperationalError("COMMIT", {}, Exception("connection reset"))
        return result

    monkeypatch.setattr(escalations_module, "insert_escalation", commit_then_lose_the_answer)
    escalation_id = writer.write(_request())
    assert escalation_id is not None and notifier.sent == [(escalation_id, "urgent")]


def test_a_spool_file_the_disk_cannot_read_is_tried_again_not_set_aside(
    tmp_path, database_url, monkeypatch
):
    writer = EscalationWriter(database_url, tmp_path / "spool")
    assert writer._spool(_request(), start_retry=False)
    real_read = Path.read_text

    def too_many_open_files(self, *args, **kwargs):
        if self.name.startswith("escalation-"):
            raise OSError(24, "Too many open files")
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", too_many_open_files)
    assert writer.flush_spool() == 1
    monkeypatch.undo()
    assert not list(writer.spool_dir.glob("*.unreadable"))
    assert writer.flush_spool() == 0


def test_an_unreadable_spool_file_is_set_aside_and_the_others_are_written(
    tmp_path, database_url, caplog
):
    writer = EscalationWriter(database_url, tmp_path / "spool")
    assert writer._spool(_request(key="conv-1:good"), start_retry=False)
    broken = writer.spool_dir / "escalation-0000.json"
    broken.write_text("{not json", encoding="utf-8")
    with caplog.at_level("CRITICAL"):
        assert writer.flush_spool() == 0
    assert writer.pending() == []
    assert len(list(writer.spool_dir.glob("escalation-0000-*.unreadable"))) == 1
    assert "UNREADABLE" in caplog.text
    with session_scope(database_url) as session:
        assert session.scalars(select(Escalation.dedup_key)).all() == ["conv-1:good"]


def test_a_file_spooled_as_the_retry_loop_ends_is_still_written(
    tmp_path, database_url, monkeypatch
):
    """The loop once ended on an empty pass while a new file had just arrived."""
    writer = EscalationWriter(database_url, tmp_path / "spool")
    real_flush = writer.flush_spool
    passes = []

    def flush_that_misses_the_late_file() -> int:
        passes.append(1)
        if len(passes) == 1:
            writer._spool(_request(key="conv-1:late"), start_retry=False)
            return 0  # this pass looked before the file arrived
        return real_flush()

    monkeypatch.setattr(writer, "flush_spool", flush_that_misses_the_late_file)
    writer._start_retry_thread()
    _wait_until(lambda: writer._retry_thread is None)
    assert writer.pending() == []
    assert len(passes) >= 2


def test_a_retry_pass_that_raises_does_not_end_the_loop(tmp_path, database_url, monkeypatch):
    writer = EscalationWriter(database_url, tmp_path / "spool")
    assert writer._spool(_request(), start_retry=False)
    real_flush = writer.flush_spool
    passes = []

    def flush_that_fails_once() -> int:
        passes.append(1)
        if len(passes) == 1:
            raise OSError("disk hiccup")
        return real_flush()

    monkeypatch.setattr(writer, "flush_spool", flush_that_fails_once)
    writer._start_retry_thread()
    _wait_until(lambda: writer._retry_thread is None)
    assert writer.pending() == []


def test_every_writer_built_from_settings_announces_urgent_escalations(tmp_path):
    from bot.config import Settings

    settings = Settings(database_url="sqlite://", urgent_webhook_url="http://127.0.0.1:9/hook")
    assert EscalationWriter.from_settings(settings).notifier is not None
    quiet = Settings(database_url="sqlite://")
    assert EscalationWriter.from_settings(quiet).notifier is None


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
