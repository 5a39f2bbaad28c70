"""``python -m bot.rasa_server <rasa arguments>``: Rasa's command line with our hooks installed."""

from __future__ import annotations

import sys


def main() -> None:
    from bot.rasa_server import install_hooks

    install_hooks()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
