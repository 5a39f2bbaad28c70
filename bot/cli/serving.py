"""``bot run``, ``bot web`` and ``bot chat``: the servers, and a terminal chat."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import click

from bot.cli.root import main
from bot.config import Settings, rasa_token


def prepare(settings: Settings) -> Path:
    """Everything the servers need: schema, content, a trained model. Returns the model."""
    from bot.maintain.training import train as train_model
    from bot.ops.bootstrap import prepare_database

    waiting = prepare_database(settings)
    from bot.cli.content import not_signed_off

    for line in not_signed_off(settings):
        click.echo(f"warning: {line}")
    if waiting:
        click.echo(f"warning: {waiting} urgent escalations still spooled in {settings.spool_dir}")
    from bot.db.session import session_scope
    from bot.maintain.promote import active_version

    with session_scope(settings.database_url) as session:
        active = active_version(session)
        if active is not None and Path(active.file).exists():
            click.echo(f"serving the promoted model {Path(active.file).name}")
            return Path(active.file)
    path, seconds = train_model(settings.models_dir)
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
    click.echo("starting the action server, the Rasa server and the web server (about 10 s) ...")
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
