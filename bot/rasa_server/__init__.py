"""What the clinic adds to Rasa's own server: channels, the safe reply when processing fails,
patient text kept out of Rasa's logs, one measured speed-up, text cleaning on the way in.

Start the server with ``python -m bot.rasa_server run ...`` (what ``bot.ops`` does): it calls
:func:`install_hooks` before Rasa starts, so log redaction never depends on which channels
``credentials.yml`` lists.
"""

from __future__ import annotations

_hooks_installed = False


def install_hooks() -> None:
    """Log redaction, the speed-up and contextual understanding, once per process."""
    global _hooks_installed
    from bot.rasa_server import logredact, speedups, understanding

    logredact.install()
    speedups.install()
    understanding.install()
    _hooks_installed = True


def hooks_installed() -> bool:
    return _hooks_installed
