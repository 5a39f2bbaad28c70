"""bootstrap.py: a fresh database made ready for the servers, on real SQLite files."""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, inspect, select

from bot.cases.escalations import EscalationRequest, EscalationWriter
from bot.config import Settings
from bot.db.models import Answer, Escalation
from bot.db.session import make_engine, session_scope
from bot.intents import ANSWERED_INTENTS
from bot.ops.bootstrap import load_content, prepare_database
from tests.helpers import CONTENT_DIR


@pytest.fixture
def fresh(tmp_path: Path) -> Settings:
    """Settings for a database file that does not exist yet."""
    var = tmp_path / "var"
    return Settings(
        var_dir=var, database_url=f"sqlite:///{var / 'new.db'}", content_dir=CONTENT_DIR
    )


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def approved_intents(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        return sorted(session.scalars(select(Answer.intent).where(Answer.status == "approved")))


def answer_rows(database_url: str) -> int:
    with session_scope(database_url) as session:
        return session.scalar(select(func.count()).select_from(Answer))


def test_prepare_database_from_nothing(fresh):
    assert prepare_database(fresh) == 0
    tables = set(inspect(make_engine(fresh.database_url)).get_table_names())
    assert {"answers", "escalations", "staff_users", "inbox_items", "model_versions"} <= tables
    assert approved_intents(fresh.database_url) == sorted(ANSWERED_INTENTS)


def test_prepare_database_twice_changes_nothing(fresh):
    prepare_database(fresh)
    rows = answer_rows(fresh.database_url)
    assert prepare_database(fresh) == 0
    assert load_content(fresh) == 0
    assert answer_rows(fresh.database_url) == rows


def test_load_content_counts_the_rows_it_loads(fresh):
    prepare_database(fresh)
    with session_scope(fresh.database_url) as session:
        session.query(Answer).delete()
    assert load_content(fresh) == len(
        yaml.safe_load((CONTENT_DIR / "answers.yml").read_text())["answers"]
    )


def test_content_that_fails_the_check_loads_nothing(fresh, content_copy):
    (content_copy / "guide.txt").write_text("A guide that says nothing the answers quote.\n")
    broken = dataclasses.replace(fresh, content_dir=content_copy)
    with pytest.raises(ValueError, match="quote not verbatim in guide"):
        prepare_database(broken)
    assert answer_rows(fresh.database_url) == 0  # migrated, but no answer half-loaded


def test_an_answer_edited_without_a_new_version_is_refused(fresh, content_copy):
    prepare_database(fresh)
    doc = yaml.safe_load((content_copy / "answers.yml").read_text())
    doc["answers"][0]["text"] += " Edited."
    (content_copy / "answers.yml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(ValueError, match="without a new version"):
        load_content(dataclasses.replace(fresh, content_dir=content_copy))


def spool(settings: Settings, request: EscalationRequest) -> Path:
    """An urgent escalation left in the spool, as the writer leaves it when the database is down."""
    writer = EscalationWriter.from_settings(settings)
    path = writer.spool_path(request.dedup_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(request)), encoding="utf-8")
    return path


URGENT = EscalationRequest(
    dedup_key="web-abc:msg-1",
    conversation_id="web-abc",
    reason="urgent",
    priority="urgent",
    trigger_intent="report_urgent_symptoms",
    transcript=[{"who": "patient", "text": "i can't swallow since the injections"}],
)


def test_spooled_urgent_escalations_are_written_at_start(fresh):
    path = spool(fresh, URGENT)
    assert prepare_database(fresh) == 0
    assert not path.exists()
    with session_scope(fresh.database_url) as session:
        (row,) = session.scalars(select(Escalation)).all()
        assert (row.dedup_key, row.priority, row.conversation_id) == (
            "web-abc:msg-1",
            "urgent",
            "web-abc",
        )


def test_a_spooled_escalation_already_written_is_not_doubled(fresh):
    spool(fresh, URGENT)
    prepare_database(fresh)
    spool(fresh, URGENT)  # the same request spooled again (a retry after a lost reply)
    assert prepare_database(fresh) == 0
    with session_scope(fresh.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1


def test_an_unreadable_spool_file_is_set_aside(fresh):
    fresh.spool_dir.mkdir(parents=True)
    bad = fresh.spool_dir / "escalation-0000.json"
    bad.write_text("{not json")
    assert prepare_database(fresh) == 0
    assert not bad.exists()
    assert len(list(fresh.spool_dir.glob("escalation-0000-*.unreadable"))) == 1
