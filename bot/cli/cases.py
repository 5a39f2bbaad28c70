"""``bot staff``, ``bot escalations`` and ``bot retention``: accounts and patient cases."""

from __future__ import annotations

import sys

import click

from bot.cli.root import main
from bot.config import Settings


@main.group()
def staff() -> None:
    """Staff console accounts (there is no default account and no password in the repo)."""


def _password_option(f):  # noqa: ANN001, ANN202
    return click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="CLINIC_NEW_PASSWORD",
        help="Prompted for when not given (or from CLINIC_NEW_PASSWORD, for scripts).",
    )(f)


@staff.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff", show_default=True)
@_password_option
@click.pass_obj
def staff_create_user(settings: Settings, username: str, role: str, password: str) -> None:
    """Create a staff or admin account for the console at /staff."""
    from bot.cases.accounts import AccountError, create_user
    from bot.cases.casework import audit
    from bot.db.migrate import upgrade
    from bot.db.session import session_scope

    upgrade(settings.database_url)
    try:
        with session_scope(settings.database_url) as session:
            user = create_user(session, username, password, role)
            audit(session, None, "user_create", username="cli", target=user.username, role=role)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {role} account {username.strip().lower()}")


@staff.command("set-password")
@click.argument("username")
@_password_option
@click.pass_obj
def staff_set_password(settings: Settings, username: str, password: str) -> None:
    """Set a new password (also unlocks the account)."""
    from bot.cases.accounts import AccountError, set_password
    from bot.cases.casework import audit
    from bot.db.session import session_scope

    try:
        with session_scope(settings.database_url) as session:
            user = set_password(session, username, password)
            audit(session, None, "password_set", username="cli", target=user.username)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"password changed for {username}")


@main.group()
def escalations() -> None:
    """Escalations handed to staff."""


@escalations.command("list")
@click.option("--status", default="open", show_default=True)
@click.pass_obj
def escalations_list(settings: Settings, status: str) -> None:
    """List escalations, urgent first, then oldest first (no message text is printed)."""
    from sqlalchemy import case, select

    from bot.db.models import Escalation
    from bot.db.session import session_scope

    with session_scope(settings.database_url) as session:
        rows = session.scalars(
            select(Escalation)
            .where(Escalation.status == status)
            .order_by(case((Escalation.priority == "urgent", 0), else_=1), Escalation.created_at)
        ).all()
        for row in rows:
            click.echo(
                f"#{row.id:<5} {row.priority:<7} {row.reason:<10} {row.created_at:%Y-%m-%d %H:%M} "
                f"conversation={row.conversation_id} turns={len(row.transcript)}"
            )
        click.echo(f"{len(rows)} {status}")


@escalations.command("flush")
@click.pass_obj
def escalations_flush(settings: Settings) -> None:
    """Write urgent escalations spooled to var/spool/ while the database was unreachable."""
    from bot.cases.escalations import EscalationWriter

    waiting = EscalationWriter.from_settings(settings).flush_spool()
    click.echo(f"{waiting} still waiting")
    if waiting:
        sys.exit(1)


@main.group()
def retention() -> None:
    """Deleting patient data older than the retention period (CLINIC_RETENTION_DAYS)."""


@retention.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Delete what is older than this (default: CLINIC_RETENTION_DAYS, else 365).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.pass_obj
def retention_purge(settings: Settings, days: int | None, dry_run: bool) -> None:
    """Delete old conversations, resolved escalations with their notes, and inbox items.

    Unresolved escalations are kept however old, and counted; the audit log is kept."""
    from bot.cases.retention import RetentionError, purge

    days = days or settings.retention_days
    try:
        counts = purge(settings, days, dry_run=dry_run)
    except RetentionError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{'would delete' if dry_run else 'deleted'} data older than {days} days:")
    for key, value in counts.items():
        click.echo(f"  {key.replace('_', ' ')}: {value}")
    if counts["unresolved_escalations_kept"]:
        click.secho(
            f"warning: {counts['unresolved_escalations_kept']} unresolved escalations are older "
            f"than {days} days; they were kept. Resolve them in the staff console.",
            fg="yellow",
            err=True,
        )


if __name__ == "__main__":  # pragma: no cover
    main()
