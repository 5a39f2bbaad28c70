"""Rasa's SQL tracker store with less work per message: the same rows, the same trackers.

Profiled under load (py-spy, 60 patients), the Rasa process spent about a third of its time in
the SQL tracker store, and two parts of it were waste:

- **a new SQLite connection for every read and write.** SQLAlchemy 1.4 gives a SQLite file no
  connection pool, so each message opened and closed the database file twice. Here SQLite gets
  a small pool (PostgreSQL already has Rasa's own).
- **the ORM for a plain insert.** Each new event went through SQLAlchemy's unit of work; here
  the same rows go in with one Core ``INSERT`` (Rasa's columns and values, computed as Rasa
  does).
- **a count before every write.** ``save`` counts the conversation's stored events to find which
  ones are new, although the tracker it saves was read from the store a moment before, under
  the conversation's lock. The number read is kept on the tracker and used for its first save;
  any later save, and a tracker not read by :meth:`retrieve`, count as before.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.pool import QueuePool

# Set by ``_retrieve`` on the tracker it returns: how many of its events are stored.
STORED_EVENTS = "_clinic_stored_events"
SQLITE_POOL_SIZE = 4


class ClinicSQLTrackerStore(SQLTrackerStore):
    """Configured in endpoints.yml (``type: bot.rasa_server.tracker_store.ClinicSQLTrackerStore``)
    with the same ``url`` as Rasa's ``type: SQL``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        ):
            self.engine.dispose()
            self.engine = sa.create_engine(
                self.engine.url,
                poolclass=QueuePool,
                pool_size=SQLITE_POOL_SIZE,
                # Pooled connections are handed to one thread at a time.
                connect_args={"check_same_thread": False},
            )
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions:
            # The latest session's events, all of them stored: what save's count would find.
            setattr(tracker, STORED_EVENTS, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """What ``SQLTrackerStore.save`` does, the new events inserted in one statement."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            sender = tracker.sender_id
            rows = [_row(sender, event) for event in self._additional_events(session, tracker)]
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        stored = tracker.__dict__.pop(STORED_EVENTS, None)
        if stored is None or stored > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for ``event``."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
