"""The command line against a temporary database, through Click's CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.config import Settings


@pytest.fixture
def cli_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    """The settings every ``bot`` command will load from the environment."""
    monkeypatch.setenv("CLINIC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLINIC_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("CLINIC_URGENT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("CLINIC_NEW_PASSWORD", raising=False)
    return settings


@pytest.fixture
def invoke(cli_settings: Settings):
    from bot.cli import main

    def _invoke(*args: str, input: str | None = None):  # noqa: A002 - CliRunner's name
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return _invoke
