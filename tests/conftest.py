"""Shared fixtures: a migrated temporary database, settings, fake dispatcher and trackers,
and (for tests marked slow) one trained model and one pair of servers per test run."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT, Settings
from tests.helpers import (
    CONTENT_DIR,
    FakeRasa,
    always_open_content,
    start_postgres,
    start_servers,
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite database with the bot's schema, migrated by Alembic."""
    from bot.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url=database_url, content_dir=CONTENT_DIR)


@pytest.fixture
def loaded_database(settings: Settings) -> str:
    """The temporary database with the vetted answers loaded."""
    from bot.ops.bootstrap import prepare_database

    prepare_database(settings)
    return settings.database_url


OPEN_MONDAY = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def action_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings, loaded_database: str):
    """Points the actions at the temporary database, the way production does: by environment."""
    import actions.common as common

    monkeypatch.setenv("CLINIC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLINIC_VAR_DIR", str(settings.var_dir))
    caches = (common.settings, common.messages, common.escalation_writer, common.staff_mailer)
    for cached in caches:
        cached.cache_clear()
    # A Monday at 10:00 in the clinic's time zone: handoffs within opening hours, whatever the
    # hour the tests run at (tests of the hours set their own clock).
    monkeypatch.setattr("actions.handoff.clock", lambda: OPEN_MONDAY)
    monkeypatch.setattr("actions.contact.clock", lambda: OPEN_MONDAY)
    yield common.settings()
    for cached in caches:
        cached.cache_clear()


@pytest.fixture(scope="session")
def messages():
    """The vetted messages with the clinic's facts, as the actions load them."""
    from bot.content.messages import Messages

    return Messages.load(CONTENT_DIR)


@pytest.fixture
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict:
    import yaml

    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def make_tracker() -> Callable[..., Any]:
    """Builds a rasa_sdk Tracker whose latest message has the given intent."""
    from rasa_sdk import Tracker

    def _make(
        intent: str,
        text: str = "a patient message",
        confidence: float = 0.9,
        ranking: list[dict] | None = None,
        history: list[dict] | None = None,
        sender_id: str | None = None,
        safety: dict | None = None,
    ) -> Tracker:
        message_id = uuid.uuid4().hex
        latest = {
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
            "text": text,
            "message_id": message_id,
            "entities": [],
            "safety": safety or {"fired": False},
        }
        events = list(history or []) + [
            {"event": "user", "text": text, "parse_data": latest, "timestamp": 1.0}
        ]
        return Tracker(
            sender_id or f"test-{message_id[:8]}",
            {},
            latest,
            events,
            False,
            None,
            {},
            "action_listen",
        )

    return _make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: they are the slowest, and nothing else waits on them."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath).replace("\\", "/"))


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current training inputs, trained at most once (cached in models/)."""
    from bot.maintain.training import train

    path, _ = train(PROJECT_ROOT / "models")
    return path


@pytest.fixture(scope="session")
def servers(trained_model: Path, tmp_path_factory: pytest.TempPathFactory):
    """Real action, Rasa and web servers, on a temporary SQLite database."""
    from bot.ops.bootstrap import prepare_database

    var_dir = tmp_path_factory.mktemp("servers-var")
    settings = Settings(
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir / 'clinic.db'}",
        content_dir=always_open_content(var_dir / "content"),
    )
    prepare_database(settings)
    server_set = start_servers(settings, trained_model)
    yield server_set
    server_set.stop()


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory):
    """A throwaway PostgreSQL server for one test module (skipped where it is not installed)."""
    server = start_postgres(tmp_path_factory)
    yield server.url
    server.stop()


# --- the web app (Flask's tutorial pattern: app, client, runner) ------------------------------


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def app(settings: Settings, rasa: FakeRasa):
    from bot.web import create_app

    return create_app({"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": rasa})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
