"""``python -m bot.rasa_server <rasa arguments>``: Rasa's command line with our hooks installed."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

# One thread per native pool in the server, set before numpy, tokenizers or onnxruntime load.
# Their idle workers spin-wait after each call: measured under load (bench/load.py, 10 patients),
# the Rasa process used 55 ms of CPU per message with the defaults and 21 ms with these, and the
# spinning took the core that other patients' requests were waiting for. Training keeps 2.
SERVER_THREAD_LIMITS = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "CLINIC_ENCODER_THREADS": "1",
}


def limit_native_threads(environ: MutableMapping[str, str] = os.environ) -> None:
    """Apply :data:`SERVER_THREAD_LIMITS` where the operator has not chosen a value."""
    for name, value in SERVER_THREAD_LIMITS.items():
        environ.setdefault(name, value)


def main() -> None:
    limit_native_threads()
    from bot.config import load_settings

    load_settings()  # a settings typo stops the server now, not at the first patient's message
    from bot.rasa_server import install_hooks

    install_hooks()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
