"""Bringing a database to the state the servers need: schema, vetted answers, no spooled work."""

from __future__ import annotations

from bot.cases.escalations import EscalationWriter
from bot.config import Settings
from bot.content.answers import Guide, load_answer_specs, sync_answers
from bot.db.migrate import upgrade
from bot.db.session import session_scope


def load_content(settings: Settings) -> int:
    """Checks the vetted answers against the guide and loads new versions; returns rows changed.

    Raises:
        ValueError: if the content fails the check (nothing is loaded then).
    """
    guide = Guide.load(settings.content_dir / "guide.txt")
    specs = load_answer_specs(settings.content_dir / "answers.yml")
    with session_scope(settings.database_url) as session:
        return sync_answers(session, specs, guide)


def prepare_database(settings: Settings) -> int:
    """Migrates, loads content, and writes spooled urgent escalations; returns how many wait."""
    upgrade(settings.database_url)
    load_content(settings)
    return EscalationWriter.from_settings(settings).flush_spool()
