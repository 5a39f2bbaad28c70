"""One setting switches both stores to PostgreSQL: a throwaway real server on loopback.

Skipped only where PostgreSQL's server binaries are not installed (SQLite is the default).
"""

from __future__ import annotations

import uuid

from sqlalchemy import inspect, select

from bot.cases.escalations import EscalationRequest, write_escalation
from bot.db.models import Escalation
from bot.db.session import make_engine, session_scope


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

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_server.tracker_store import ClinicSQLTrackerStore

    store = ClinicSQLTrackerStore(Domain.empty(), host=postgres_url)  # what endpoints.yml sets
    tracker = DialogueStateTracker.from_events("pg-sender", [UserUttered("hello")])
    asyncio.run(store.save(tracker))
    restored = asyncio.run(store.retrieve("pg-sender"))
    assert [e.text for e in restored.events if isinstance(e, UserUttered)] == ["hello"]
    restored.update(UserUttered("again"))
    asyncio.run(store.save(restored))  # the count read with the tracker, not counted again
    again = asyncio.run(store.retrieve("pg-sender"))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hello", "again"]
    assert {"events", "escalations"} <= set(inspect(make_engine(postgres_url)).get_table_names())
