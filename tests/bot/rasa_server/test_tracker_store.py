"""Our SQL tracker store stores and restores exactly what Rasa's does, with less work."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import class_from_module_path
from sqlalchemy import text as sql
from sqlalchemy.pool import QueuePool

from bot.rasa_server.tracker_store import STORED_EVENTS, ClinicSQLTrackerStore

ROOT = Path(__file__).resolve().parents[3]


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture()
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'trackers.db'}"


def _user_texts(tracker: DialogueStateTracker) -> list[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def _rows(store: SQLTrackerStore, sender: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sql(
                    "select sender_id, type_name, timestamp, intent_name, action_name, data"
                    " from events where sender_id = :s order by id"
                ),
                {"s": sender},
            )
        ]


@pytest.mark.parametrize("path", ["endpoints.yml", "deploy/endpoints.cluster.yml"])
def test_the_endpoints_name_this_store(path):
    # Rasa falls back to an in-memory store, with a warning only, when a type cannot be found.
    config = yaml.safe_load((ROOT / path).read_text())["tracker_store"]
    assert class_from_module_path(config["type"]) is ClinicSQLTrackerStore
    assert config["url"] == "${CLINIC_DATABASE_URL}"


def test_sqlite_gets_a_connection_pool(url):
    store = ClinicSQLTrackerStore(Domain.empty(), host=url)
    assert isinstance(store.engine.pool, QueuePool)
    assert not isinstance(SQLTrackerStore(Domain.empty(), host=url).engine.pool, QueuePool)


def test_a_conversation_is_stored_row_for_row_like_rasas_store(tmp_path):
    stores = {
        "ours": ClinicSQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'a.db'}"),
        "rasa": SQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'b.db'}"),
    }
    turns = [
        [UserUttered("hello"), ActionExecuted("utter_greet"), BotUttered("hi")],
        [UserUttered("does it hurt?", {"name": "ask_pain"}), ActionExecuted("action_answer")],
        [UserUttered("and gym?")],
    ]
    for store in stores.values():
        tracker = DialogueStateTracker.from_events("p1", [SessionStarted(timestamp=1.0)])
        run(store.save(tracker))
        for events in turns:
            tracker = run(store.retrieve("p1"))
            for event in events:
                tracker.update(event)
            run(store.save(tracker))
            run(store.save(tracker))  # a second save of the same tracker adds nothing
    ours, theirs = _rows(stores["ours"], "p1"), _rows(stores["rasa"], "p1")
    assert ours == theirs  # every column of every row
    assert "ask_pain" in [row[3] for row in ours]
    assert len(ours) == 1 + sum(len(events) for events in turns)
    assert _user_texts(run(stores["ours"].retrieve("p1"))) == ["hello", "does it hurt?", "and gym?"]


def test_the_stored_count_is_kept_only_for_the_first_save(url):
    store = ClinicSQLTrackerStore(Domain.empty(), host=url)
    run(store.save(DialogueStateTracker.from_events("p2", [UserUttered("one")])))
    tracker = run(store.retrieve("p2"))
    assert getattr(tracker, STORED_EVENTS) == len(tracker.events)
    tracker.update(UserUttered("two"))
    run(store.save(tracker))
    assert not hasattr(tracker, STORED_EVENTS)
    full = run(store.retrieve_full_tracker("p2"))
    assert not hasattr(full, STORED_EVENTS)  # all sessions: save counts as Rasa does
    assert _user_texts(run(store.retrieve("p2"))) == ["one", "two"]


def test_a_new_session_is_saved_after_the_old_one(url):
    store = ClinicSQLTrackerStore(Domain.empty(), host=url)
    first = [SessionStarted(timestamp=1.0), UserUttered("a", timestamp=2.0)]
    run(store.save(DialogueStateTracker.from_events("p3", first)))
    tracker = run(store.retrieve("p3"))
    for event in (SessionStarted(timestamp=10.0), UserUttered("b", timestamp=11.0)):
        tracker.update(event)
    run(store.save(tracker))
    assert _user_texts(run(store.retrieve("p3"))) == ["b"]
    assert _user_texts(run(store.retrieve_full_tracker("p3"))) == ["a", "b"]
