"""Shared by the maintainer-loop unit tests: Rasa's own tracker store on the test database
(patient messages stored exactly as the running bot stores them), a scratch copy of the
project's training inputs made by ``cycle.copy_training_inputs``, and a loopback stand-in for
the Rasa HTTP API's ``PUT /model``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.maintain import cycle
from bot.maintain.training import TRAINING_INPUTS

# Kept out of every copy these tests make: sealed evaluation data and the safety examples.
_NOT_COPIED = ("data/eval/sealed", "data/safety/examples")
DAY = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)


def _ignore(directory: str, names: list[str]) -> set[str]:
    here = Path(directory)
    skipped = {"__pycache__"}
    for name in names:
        path = here / name
        if any(path == PROJECT_ROOT / kept for kept in _NOT_COPIED):
            skipped.add(name)
    return skipped


@pytest.fixture(scope="session")
def project_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's training inputs and their neighbours, without the sealed sets."""
    source = tmp_path_factory.mktemp("source")
    for name in TRAINING_INPUTS + cycle.SCRATCH_EXTRAS:
        src, dst = PROJECT_ROOT / name, source / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=_ignore)
        else:
            shutil.copy2(src, dst)
    return source


@pytest.fixture
def project(tmp_path: Path, project_source: Path) -> Path:
    """A scratch project, as the maintainer commands make one."""
    return cycle.copy_training_inputs(tmp_path / "project", project_source)


@pytest.fixture
def tracker_store(database_url: str):
    """Rasa's SQL tracker store on the test database (it creates the ``events`` table)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    store = SQLTrackerStore(Domain.empty(), host=database_url)
    yield store
    store.engine.dispose()


def user_event(
    text: str,
    intent: str = "ask_injection_pain",
    confidence: float = 0.95,
    ranking: list[tuple[str, float]] | None = None,
    safety: dict | None = None,
    when: dt.datetime = DAY,
    metadata: dict | None = None,
):
    """A patient message as Rasa records it, with what the NLU (and safety layer) made of it."""
    from rasa.shared.core.events import UserUttered

    ranking = ranking if ranking is not None else [(intent, confidence)]
    return UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        parse_data={
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
            "safety": safety or {"fired": False},
        },
        timestamp=when.timestamp(),
        message_id=uuid.uuid4().hex,
        metadata=metadata,
    )


@pytest.fixture
def save_conversation(tracker_store) -> Callable:
    """Stores one conversation's events through Rasa; returns its tracker."""
    from rasa.shared.core.trackers import DialogueStateTracker

    def _save(events: list, sender: str | None = None):
        tracker = DialogueStateTracker.from_events(sender or f"web-{uuid.uuid4().hex}", events)
        asyncio.run(tracker_store.save(tracker))
        return tracker

    return _save


@pytest.fixture
def rasa_api():
    """A loopback HTTP server that records requests and answers with ``reply`` (status, body)."""
    received: list[tuple[str, str, dict]] = []
    reply = {"status": 204, "body": b""}

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            length = int(self.headers.get("Content-Length") or 0)
            received.append((self.command, self.path, json.loads(self.rfile.read(length))))
            self.send_response(reply["status"])
            self.send_header("Content-Length", str(len(reply["body"])))
            self.end_headers()
            self.wfile.write(reply["body"])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received, reply
    server.shutdown()
    server.server_close()
