"""One setting switches both stores to PostgreSQL: a throwaway real server on loopback.

Skipped only where PostgreSQL's server binaries are not installed (SQLite is the default).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from bot.db.models import Escalation
from bot.db.session import make_engine, session_scope
from bot.escalations import EscalationRequest, write_escalation
from tests.conftest import free_port


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    return found


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server binaries not installed")
    # Not under pytest's tmp dir: the postgres user cannot enter root's private folders.
    base = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
    base.chmod(0o755)
    data_dir = base / "data"
    data_dir.mkdir()
    # PostgreSQL refuses to run as root: run it as the postgres user when we are root.
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data_dir, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*prefix, initdb, "-D", str(data_dir), "-A", "trust", "-U", "clinic"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data_dir}"
    subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            str(data_dir),
            "-o",
            options,
            "-w",
            "-l",
            str(data_dir / "server.log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        admin = make_engine(f"postgresql://clinic@127.0.0.1:{port}/postgres")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CREATE DATABASE clinic")
        admin.dispose()
        yield f"postgresql://clinic@127.0.0.1:{port}/clinic"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data_dir), "-m", "fast", "stop"], capture_output=True
        )


def test_bot_tables_migrate_and_work_on_postgresql(postgres_url):
    from bot.db.migrate import upgrade

    upgrade(postgres_url)
    request = EscalationRequest(
        dedup_key=uuid.uuid4().hex,
        conversation_id="pg-1",
        reason="urgent",
        priority="urgent",
        transcript=[{"who": "patient", "text": "i can't breathe"}],
    )
    first = write_escalation(postgres_url, request)
    assert write_escalation(postgres_url, request) == first  # same message, one row
    with session_scope(postgres_url) as session:
        row = session.scalars(select(Escalation).where(Escalation.conversation_id == "pg-1")).one()
        assert row.transcript == [{"who": "patient", "text": "i can't breathe"}]


def test_rasa_tracker_store_uses_the_same_url(postgres_url):
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(Domain.empty(), host=postgres_url)  # what endpoints.yml configures
    tracker = DialogueStateTracker.from_events("pg-sender", [UserUttered("hello")])
    asyncio.run(store.save(tracker))
    restored = asyncio.run(store.retrieve("pg-sender"))
    assert [e.text for e in restored.events if isinstance(e, UserUttered)] == ["hello"]
    assert {"events", "escalations"} <= set(inspect(make_engine(postgres_url)).get_table_names())
