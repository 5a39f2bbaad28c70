"""``bot db`` and ``bot content``: the schema and the vetted content."""

from __future__ import annotations

import sys

import click

from bot.cli.root import main
from bot.config import PROJECT_ROOT, Settings


@main.group()
def db() -> None:
    """The bot's database (SQLite under var/ or CLINIC_DATABASE_URL)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Create or upgrade the bot's tables with Alembic."""
    from bot.db.migrate import upgrade

    upgrade(settings.database_url)
    click.echo("database is up to date")


@main.group()
def content() -> None:
    """Vetted answers and clinic messages under data/content/."""


@content.command("check")
@click.pass_obj
def content_check(settings: Settings) -> None:
    """Check every answer against the guide; list clinic facts still left as placeholders."""
    from bot.content.answers import Guide, check_answer_specs, load_answer_specs
    from bot.content.messages import Messages, WebTexts

    guide = Guide.load(settings.content_dir / "guide.txt")
    specs = load_answer_specs(settings.content_dir / "answers.yml")
    problems = check_answer_specs(specs, guide)
    try:
        WebTexts.load(settings.content_dir)  # the page's paragraphs and their guide quotes
    except ValueError as error:
        problems.append(str(error))
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    placeholders = Messages.load(settings.content_dir).placeholders
    if placeholders:
        click.echo("note: clinic.yml still has placeholder values for: " + ", ".join(placeholders))
    unsigned = _unsigned_safety(settings)
    if unsigned:
        click.echo(
            "note: red-flag categories no clinician has signed yet (data/safety/): "
            + ", ".join(unsigned)
        )
    if problems:
        sys.exit(1)
    click.echo(f"{len(specs)} answers and the web page checked against the guide: ok")


def _unsigned_safety(settings: Settings) -> list[str]:
    from bot.safety.spec import load_spec

    return load_spec(PROJECT_ROOT / "data" / "safety").unsigned()


@content.command("load")
@click.pass_obj
def content_load(settings: Settings) -> None:
    """Load the vetted answers into the database (new versions only)."""
    from bot.ops.bootstrap import load_content

    try:
        changed = load_content(settings)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"answers loaded: {changed} changed")
