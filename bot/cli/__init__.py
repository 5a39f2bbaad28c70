"""``bot``: one command line for running, training, checking and chatting with the assistant.

One module per command group; importing them registers their commands on :data:`main`.
"""

from bot.cli import cases, content, maintain, model, serving  # noqa: F401 - registers commands
from bot.cli.root import main

__all__ = ["main"]
