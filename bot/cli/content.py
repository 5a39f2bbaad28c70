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
    """Check every answer against the guide; list what nobody has signed off yet (an error
    when CLINIC_ENV=production, a warning otherwise)."""
    from bot.content.answers import Guide, check_answer_specs, load_answer_specs
    from bot.content.messages import WebTexts

    guide = Guide.load(settings.content_dir / "guide.txt")
    specs = load_answer_specs(settings.content_dir / "answers.yml")
    problems = check_answer_specs(specs, guide)
    try:
        WebTexts.load(settings.content_dir)  # the page's paragraphs and their guide quotes
    except ValueError as error:
        problems.append(str(error))
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    pending = not_signed_off(settings)
    level = "error" if settings.production else "warning"
    for line in pending:
        click.echo(f"{level}: {line}", err=settings.production)
    if problems or (settings.production and pending):
        sys.exit(1)
    click.echo(f"{len(specs)} answers and the web page checked against the guide: ok")


def not_signed_off(settings: Settings) -> list[str]:
    """What a clinic must sign off before going live, one readable line each."""
    from bot.content.answers import load_answer_specs, unsigned_answers
    from bot.content.messages import Messages

    lines = []
    unsigned = unsigned_answers(load_answer_specs(settings.content_dir / "answers.yml"))
    if unsigned:
        lines.append(
            "answers no clinical reviewer has signed (bot content sign ID --reviewer NAME): "
            + ", ".join(unsigned)
        )
    placeholders = Messages.load(settings.content_dir).placeholders
    if placeholders:
        lines.append("clinic.yml still has placeholder values for: " + ", ".join(placeholders))
    categories = _unsigned_safety(settings)
    if categories:
        lines.append(
            "red-flag categories no clinician has signed yet (data/safety/): "
            + ", ".join(categories)
        )
    return lines


@content.command("sign")
@click.argument("answer_id")
@click.option("--reviewer", required=True, help="The clinician who read and approved it.")
@click.pass_obj
def content_sign(settings: Settings, answer_id: str, reviewer: str) -> None:
    """Record that REVIEWER signed off ANSWER_ID: a new version with the name and today's date
    (the text is unchanged), written to answers.yml and the audit log."""
    import datetime as dt
    import getpass

    from bot.cases.casework import audit
    from bot.content.signing import sign_answer
    from bot.db.session import session_scope
    from bot.ops.bootstrap import prepare_database

    try:
        version = sign_answer(
            settings.content_dir / "answers.yml", answer_id, reviewer, dt.date.today()
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    prepare_database(settings)  # loads the new version
    with session_scope(settings.database_url) as session:
        audit(session, None, "sign_answer", username=f"cli:{getpass.getuser()}",
              answer_id=answer_id, version=version, reviewer=reviewer)  # fmt: skip
    click.echo(f"{answer_id} v{version} signed by {reviewer}")


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
