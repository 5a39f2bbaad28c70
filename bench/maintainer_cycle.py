"""Benchmark of the maintainer cycle on a scratch copy: retrain, evaluate, promote (hot swap).

Prints the seconds of each step and writes bench/results/maintainer-cycle-<time>.json.
Goal on 2 cores: the whole cycle under 3 minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import PROJECT_ROOT, Settings  # noqa: E402
from bot.maintain import cycle  # noqa: E402
from bot.maintain.training import inputs_hash, train  # noqa: E402
from bot.ops.bootstrap import prepare_database  # noqa: E402
from bot.ops.servers import ServerSet  # noqa: E402

GOAL_S = 180


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="maintainer-cycle-") as scratch:
        root = cycle.copy_training_inputs(Path(scratch))
        var = root / "var"
        settings = Settings(
            var_dir=var,
            database_url=f"sqlite:///{var / 'clinic.db'}",
            content_dir=PROJECT_ROOT / "data" / "content",
        )
        prepare_database(settings)
        base, _ = train(root / "models", root=root)
        servers = ServerSet(
            settings,
            base,
            uuid.uuid4().hex,
            rasa_port=free_port(),
            action_port=free_port(),
            web_port=None,
            log_dir=var / "logs",
        )
        servers.start()
        import os

        os.environ["RASA_AUTH_TOKEN"] = servers.token
        settings = Settings(
            var_dir=var,
            database_url=settings.database_url,
            content_dir=settings.content_dir,
            rasa_url=servers.rasa_url,
        )
        try:
            # The cycle after a merge: a data change means a cold retrain.
            extra = root / "data" / "nlu" / "from_patients.yml"
            extra.write_text(
                'version: "3.1"\nnlu:\n- intent: ask_how_it_works\n  examples: |\n'
                "    - kindly elucidate the modus operandi of onabotulinumtoxinA\n"
            )
            timings = {}
            started = time.monotonic()
            candidate, _ = cycle.train_candidate(root, force=True)
            timings["train_s"] = time.monotonic() - started
            mark = time.monotonic()
            outcome = cycle.evaluate_candidate(settings, root, folds=5)
            timings["evaluate_s"] = time.monotonic() - mark
            mark = time.monotonic()
            cycle.promote_candidate(settings, root, "benchmark")
            timings["promote_s"] = time.monotonic() - mark
            timings["cycle_s"] = time.monotonic() - started
        finally:
            servers.stop()
    figures = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs_hash": inputs_hash(PROJECT_ROOT),
        **{k: round(v, 1) for k, v in timings.items()},
        "candidate_heldout": outcome.comparison.candidate,
        "cross_validation": outcome.comparison.cross_validation,
        "gate_objections": outcome.objections,
    }
    out = PROJECT_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"maintainer-cycle-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(figures, indent=2))
    print(f"train      {figures['train_s']:>7.1f} s")
    print(f"evaluate   {figures['evaluate_s']:>7.1f} s  (held-out x2 models + 5-fold CV)")
    print(f"promote    {figures['promote_s']:>7.1f} s  (PUT /model, hot swap)")
    print(
        f"cycle      {figures['cycle_s']:>7.1f} s  goal < {GOAL_S} s: "
        f"{'met' if figures['cycle_s'] < GOAL_S else 'NOT met'}"
    )
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
