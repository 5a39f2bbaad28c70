"""The ``bot`` command group: logging, file permissions and settings for every command."""

from __future__ import annotations

import logging
import os
import warnings

import click

from bot.config import load_settings

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
