"""``bot``: one command line for running, training, checking and chatting with the assistant."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import uuid
import warnings
from pathlib import Path

import click

from bot.config import PROJECT_ROOT, Settings, load_settings, rasa_token

MODELS_DIR = PROJECT_ROOT / "models"
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"

# Rasa 3.6's dependencies warn about their own dependencies on every start; not actionable here.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=PendingDeprecationWarning)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Debug logging (may include message text).")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Patient FAQ assistant for a headache clinic (Botox for chronic migraine)."""
    # Files we create (SQLite database, spool, logs, inbox) hold patient text: owner only.
    # The servers started by `bot run` inherit this.
    os.umask(0o077)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = load_settings()


# --- database and content ---------------------------------------------------------------
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
    from bot.content.messages import Messages

    guide = Guide.load(settings.content_dir / "guide.txt")
    specs = load_answer_specs(settings.content_dir / "answers.yml")
    problems = check_answer_specs(specs, guide)
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
    click.echo(f"{len(specs)} answers checked against the guide: ok")


def _unsigned_safety(settings: Settings) -> list[str]:
    from bot.safety.spec import load_spec

    return load_spec(settings.root / "data" / "safety").unsigned()


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


# --- model ------------------------------------------------------------------------------
@main.command()
@click.option("--force", is_flag=True, help="Train even if a model for these inputs exists.")
def train(force: bool) -> None:
    """Train the model if its inputs (data, config, components) changed."""
    from bot.maintain.training import train as train_model

    path, seconds = train_model(MODELS_DIR, force=force)
    if seconds is None:
        click.echo(f"model is up to date: {path.relative_to(PROJECT_ROOT)}")
    else:
        click.echo(f"trained {path.relative_to(PROJECT_ROOT)} in {seconds:.1f} s")


@main.command()
@click.option("--heldout", type=click.Path(exists=True, path_type=Path), default=HELDOUT)
@click.option("--json-out", type=click.Path(path_type=Path), help="Also write the figures here.")
def evaluate(heldout: Path, json_out: Path | None) -> None:
    """Score the current model on the held-out file (safety layer and fallback included) and
    on the safety sets (development and sealed): figures only."""
    from bot.maintain.training import evaluate_model
    from bot.maintain.training import train as train_model

    path, _ = train_model(MODELS_DIR)
    evaluation = evaluate_model(path, heldout)
    summary = evaluation.summary()
    for key, value in summary.items():
        click.echo(f"{key:>16}: {value}")
    for (expected, predicted), count in evaluation.confusions(10):
        click.echo(f"  confused {expected} -> {predicted}: {count}")
    safety = _safety_figures(path)
    if json_out:
        json_out.write_text(json.dumps({**summary, "safety_sets": safety}, indent=2))


SAFETY_SETS = {
    "development sets (tuned on)": ("tests/safety/dev.yml", "tests/safety/dev2.yml"),
    "sealed sets (never read, never tuned on)": (
        "tests/sealed/safety_a.yml",
        "tests/sealed/safety_b.yml",
        "tests/sealed/safety_c.yml",
    ),
}


def _safety_figures(model: Path) -> dict[str, dict]:
    """Figures only, per set: the sealed sets' messages are never printed."""
    from bot.safety.evaluation import format_figures, score_set

    results = {}
    for title, names in SAFETY_SETS.items():
        paths = [PROJECT_ROOT / n for n in names if (PROJECT_ROOT / n).exists()]
        if not paths:
            continue
        figures = score_set(model, paths).figures()
        click.echo(format_figures(title, figures))
        results[title] = {k: list(v) if isinstance(v, tuple) else v for k, v in figures.items()}
    return results


# --- serving ----------------------------------------------------------------------------
def prepare(settings: Settings) -> Path:
    """Everything the servers need: schema, content, a trained model. Returns the model."""
    from bot.maintain.training import train as train_model
    from bot.ops.bootstrap import prepare_database

    waiting = prepare_database(settings)
    if waiting:
        click.echo(f"warning: {waiting} urgent escalations still spooled in {settings.spool_dir}")
    from bot.db.session import session_scope
    from bot.maintain.promote import active_version

    with session_scope(settings.database_url) as session:
        active = active_version(session)
        if active is not None and Path(active.file).exists():
            click.echo(f"serving the promoted model {Path(active.file).name}")
            return Path(active.file)
    path, seconds = train_model(MODELS_DIR)
    if seconds is not None:
        click.echo(f"trained {path.name} in {seconds:.0f} s")
    return path


@main.command()
@click.option("--rasa-port", default=5005, show_default=True)
@click.option("--action-port", default=5055, show_default=True)
@click.option("--web-port", default=8000, show_default=True)
@click.option("--cors", multiple=True, help="Origin allowed to call the Rasa server (repeatable).")
@click.pass_obj
def run(
    settings: Settings, rasa_port: int, action_port: int, web_port: int, cors: tuple[str, ...]
) -> None:
    """Prepare what is missing, start the action and Rasa servers, wait for Ctrl-C."""
    from bot.ops.servers import ServerSet

    model = prepare(settings)
    servers = ServerSet(
        settings,
        model,
        rasa_token(settings),
        rasa_port=rasa_port,
        action_port=action_port,
        web_port=web_port,
        cors_origins=cors,
        log_dir=settings.var_dir / "logs",
    )
    click.echo("starting the action server, the Rasa server and the web server (about 20 s) ...")
    servers.start()
    click.echo(
        "\nready. The assistant is running on 127.0.0.1:\n"
        f"  patients:  {servers.web_url}/   (the clinic page with the chat widget)\n"
        f"  staff:     {servers.web_url}/staff   (accounts: bot staff create-user NAME)\n"
        f"  REST:      POST {servers.rasa_url}/webhooks/rest/webhook "
        '{"sender": "me", "message": "does it hurt?"}\n'
        f"  socket.io: {servers.rasa_url}/socket.io\n"
        "  terminal:  make chat    (in another terminal)\n"
        f"  logs:      {settings.var_dir / 'logs'}\n"
        "Ctrl-C stops everything."
    )
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop["now"]:
            if any(p.poll() is not None for p in servers.processes):
                click.echo("a server stopped unexpectedly; see the logs", err=True)
                break
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("stopping ...")
        servers.stop()


@main.command()
@click.option("--port", default=8000, show_default=True)
@click.option("--threads", default=8, show_default=True)
def web(port: int, threads: int) -> None:
    """Serve the clinic web page with the chat widget on 127.0.0.1 (waitress)."""
    from waitress import serve

    from bot.web import create_app

    serve(create_app(), host="127.0.0.1", port=port, threads=threads, ident="clinic")


@main.command()
@click.option("--url", default=None, help="Rasa server URL (default: CLINIC_RASA_URL or :5005).")
@click.option("--sender", default=None, help="Conversation id (default: a new random one).")
@click.pass_obj
def chat(settings: Settings, url: str | None, sender: str | None) -> None:
    """Chat with the running assistant in the terminal, as a patient would."""
    from bot.ops.servers import http_json

    url = (url or settings.rasa_url).rstrip("/")
    sender = sender or f"terminal-{uuid.uuid4().hex[:8]}"
    click.echo(f"Chatting as {sender} with {url}. Empty line or Ctrl-D to quit.\n")
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if not text:
            return
        try:
            status, replies = http_json(
                "POST", f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}, 30
            )
        except OSError as error:
            click.echo(f"[cannot reach the assistant at {url}: {error}. Is `make run` running?]")
            continue
        if status != 200 or not isinstance(replies, list):
            click.echo(f"[the assistant answered HTTP {status}]")
            continue
        for message in replies:
            _print_reply(message)


def _print_reply(message: dict) -> None:
    meta = message.get("metadata") or {}
    kind = meta.get("kind", "?")
    style = {"urgent": {"fg": "red", "bold": True}, "handoff": {"fg": "yellow"}}.get(kind, {})
    click.secho(f"bot [{kind}]> {message.get('text', '')}", **style)
    source = meta.get("source")
    if source:
        click.secho(f"    {source.get('label')} {source.get('section')}", dim=True)
        for quote in source.get("quotes", []):
            click.secho(f'      "{quote}"', dim=True)
    for button in message.get("buttons") or []:
        click.secho(f"    [{button['title']}]  (type: {button['payload']})", fg="cyan")


# --- maintainers ------------------------------------------------------------------------
@main.group()
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT,
    show_default=True,
    help="Project folder whose data/ and models/ are used.",
)
@click.pass_context
def maintain(ctx: click.Context, root: Path) -> None:
    """Turn missed patient questions into training data and a safer model."""
    ctx.obj = (ctx.obj, root.resolve())


def _who() -> str:
    import getpass

    return getpass.getuser()


@maintain.command("inbox")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Annotation file (default: var/inbox.yml).",
)
@click.pass_obj
def maintain_inbox(obj: tuple[Settings, Path], out: Path | None) -> None:
    """Collect missed questions (fallback, unsure, handed off, flagged), redacted, de-duplicated."""
    from bot.maintain.cycle import collect_inbox

    settings, _ = obj
    out = out or settings.var_dir / "inbox.yml"
    new, total = collect_inbox(settings, out)
    click.echo(f"{new} new, {total} waiting in {out}")


@maintain.command("merge")
@click.option(
    "--annotations",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="An edited annotation file; without it, decisions made in the console.",
)
@click.option("--by", default=None, help="Who annotated (default: your user name).")
@click.pass_obj
def maintain_merge(obj: tuple[Settings, Path], annotations: Path | None, by: str | None) -> None:
    """Add annotated questions to data/nlu/from_patients.yml (skips duplicates and held-out)."""
    from bot.maintain.cycle import merge_annotations

    settings, root = obj
    result = merge_annotations(settings, root, annotations, by or _who())
    click.echo(
        f"added {len(result.added)} examples; skipped {len(result.duplicates)} duplicates "
        f"and {len(result.heldout)} held-out; {result.discarded} discarded"
    )
    for message in result.new_topics:
        click.echo(f"  new topic (needs an intent and a vetted answer, see README): {message}")


@maintain.command("train")
@click.option("--force", is_flag=True)
@click.pass_obj
def maintain_train(obj: tuple[Settings, Path], force: bool) -> None:
    """Train a candidate model on the current data."""
    from bot.maintain.cycle import train_candidate

    _, root = obj
    path, seconds = train_candidate(root, force)
    click.echo(
        f"candidate {path.name}" + (f" trained in {seconds:.1f} s" if seconds else " (exists)")
    )


@maintain.command("evaluate")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds (0: none).")
@click.pass_obj
def maintain_evaluate(obj: tuple[Settings, Path], folds: int) -> None:
    """Score candidate and current model on the held-out file; cross-validate; write a report."""
    from bot.maintain.cycle import evaluate_candidate

    settings, root = obj
    outcome = evaluate_candidate(settings, root, folds)
    current = outcome.comparison.current or {}
    for key, value in outcome.comparison.candidate.items():
        click.echo(f"{key:>16}: {current.get(key, '-')!s:>8} -> {value}")
    click.echo(f"report: {outcome.report}")
    for objection in outcome.objections:
        click.echo(f"gate: {objection}")
    click.echo("gate: passes" if not outcome.objections else "gate: would refuse")


@maintain.command("promote")
@click.option(
    "--force",
    "force_reason",
    default=None,
    metavar="REASON",
    help="Promote despite the gate; the reason is recorded.",
)
@click.option("--by", default=None, help="Who promotes (default: your user name).")
@click.option("--no-swap", is_flag=True, help="Do not load it into the running server now.")
@click.pass_obj
def maintain_promote(
    obj: tuple[Settings, Path], force_reason: str | None, by: str | None, no_swap: bool
) -> None:
    """Make the evaluated candidate the active model and load it into the running server."""
    from bot.maintain.cycle import promote_candidate
    from bot.maintain.promote import PromotionRefused

    settings, root = obj
    try:
        path, overridden = promote_candidate(
            settings, root, by or _who(), force_reason, not no_swap
        )
    except PromotionRefused as error:
        raise click.ClickException(f"promotion refused: {error}") from error
    for objection in overridden:
        click.echo(f"forced past: {objection}")
    click.echo(f"active model: {path.name}")


@maintain.command("rollback")
@click.option("--no-swap", is_flag=True)
@click.pass_obj
def maintain_rollback(obj: tuple[Settings, Path], no_swap: bool) -> None:
    """Return to the previous model."""
    from bot.maintain.cycle import rollback_model

    settings, _ = obj
    try:
        path = rollback_model(settings, _who(), not no_swap)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"active model: {path.name}")


# --- staff accounts ---------------------------------------------------------------------
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


# --- escalations ------------------------------------------------------------------------
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


# --- retention --------------------------------------------------------------------------
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
