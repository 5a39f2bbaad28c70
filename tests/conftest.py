"""Shared fixtures: a migrated temporary database, settings, fake dispatcher and trackers,
and (for tests marked slow) one trained model and one pair of servers per test run."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT, Settings

CONTENT_DIR = PROJECT_ROOT / "data" / "content"


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
    from bot.bootstrap import prepare_database

    prepare_database(settings)
    return settings.database_url


@pytest.fixture
def action_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings, loaded_database: str):
    """Points the actions at the temporary database, the way production does: by environment."""
    import actions.common as common

    monkeypatch.setenv("CLINIC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLINIC_VAR_DIR", str(settings.var_dir))
    caches = (common.settings, common.messages, common.escalation_writer)
    for cached in caches:
        cached.cache_clear()
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current training inputs, trained at most once (cached in models/)."""
    from bot.training import train

    path, _ = train(PROJECT_ROOT / "models")
    return path


def start_servers(settings: Settings, model: Path, **ports: int):
    """Real action, Rasa and web servers on free loopback ports (unless given), warm."""
    from bot.servers import ServerSet

    server_set = ServerSet(
        settings,
        model,
        token=uuid.uuid4().hex,
        rasa_port=ports.get("rasa_port") or free_port(),
        action_port=ports.get("action_port") or free_port(),
        web_port=ports.get("web_port") or free_port(),
        log_dir=settings.var_dir / "logs",
    )
    server_set.start()
    return server_set


def start_postgres(tmp_path_factory: pytest.TempPathFactory):
    """A throwaway PostgreSQL server on loopback; skips where its binaries are missing."""
    from bot.cluster import LocalPostgres, pg_bin
    from bot.servers import ServerError

    try:
        pg_bin("initdb")
    except ServerError:
        pytest.skip("PostgreSQL server binaries not installed (make test installs them)")
    server = LocalPostgres(tmp_path_factory.mktemp("pg"), free_port())
    server.start()
    return server


@pytest.fixture(scope="session")
def servers(trained_model: Path, tmp_path_factory: pytest.TempPathFactory):
    """Real action, Rasa and web servers, on a temporary SQLite database."""
    from bot.bootstrap import prepare_database

    var_dir = tmp_path_factory.mktemp("servers-var")
    settings = Settings(
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir / 'clinic.db'}",
        content_dir=CONTENT_DIR,
    )
    prepare_database(settings)
    server_set = start_servers(settings, trained_model)
    yield server_set
    server_set.stop()
