"""Benchmark of the assistant: training time, held-out accuracy, parse and REST latency.

Compares our pipeline (config.yml) with the stock ``rasa init`` 3.6 NLU pipeline trained on
the same data and with the same policies. Prints a side-by-side table and the goals, and
writes every figure to ``bench/results/benchmark-<UTC timestamp>.json``.

Run with ``make bench`` (or ``.venv/bin/python bench/benchmark.py --help``). Nothing in the
repository is changed: models, caches, the database and server logs live in a temporary
directory that is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/benchmark.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bot.bootstrap import prepare_database  # noqa: E402
from bot.cli import HELDOUT  # noqa: E402
from bot.config import PROJECT_ROOT, Settings  # noqa: E402
from bot.servers import ServerSet, http_json  # noqa: E402
from bot.training import evaluate_model, load_nlu_examples, train  # noqa: E402

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
RASA_PORT = 5105
ACTION_PORT = 5155
WARMUP_PARSES = 3
# Goals: (key in the figures, label, limit, unit).
GOALS = (
    ("parse_p95_ms", "parse p95 (in-process)", 20.0, "ms"),
    ("rest_p95_ms", "REST end-to-end p95", 60.0, "ms"),
    ("train_cold_s", "retraining (cold, no cache)", 90.0, "s"),
)


def stock_pipeline(epochs: int) -> list[dict]:
    """The NLU pipeline that ``rasa init`` writes in Rasa 3.6, with configurable epochs."""
    return [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": epochs, "constrain_similarities": True},
        {"name": "EntitySynonymMapper"},
        {"name": "ResponseSelector", "epochs": epochs, "constrain_similarities": True},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
    ]


def write_stock_config(path: Path, epochs: int) -> Path:
    """Writes config.yml with its pipeline replaced by the stock one (same policies)."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = stock_pipeline(epochs)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Sets environment variables (inherited by ``rasa train``) for the duration of a block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def timed_train(models_dir: Path, config: str, cache_dir: Path | None) -> tuple[Path, float]:
    """Trains from scratch; Rasa's training cache is disabled unless ``cache_dir`` is given."""
    cache = (
        {"RASA_MAX_CACHE_SIZE": "0"}
        if cache_dir is None
        else {"RASA_CACHE_DIRECTORY": str(cache_dir)}
    )
    with environment(**cache):
        path, seconds = train(models_dir, config=config, force=True)
    assert seconds is not None, "train(force=True) always trains"
    return path, seconds


def latency_stats(milliseconds: list[float]) -> dict[str, float]:
    """p50, p95, mean and max of a list of latencies in ms."""
    p95 = statistics.quantiles(milliseconds, n=20, method="inclusive")[-1]
    return {
        "n": len(milliseconds),
        "p50_ms": round(statistics.median(milliseconds), 2),
        "p95_ms": round(p95, 2),
        "mean_ms": round(statistics.fmean(milliseconds), 2),
        "max_ms": round(max(milliseconds), 2),
    }


def time_each(texts: list[str], call: Callable[[str], object]) -> list[float]:
    """Milliseconds taken by ``call`` for each text, after a few untimed warm-up calls."""
    for text in texts[:WARMUP_PARSES]:
        call(text)
    timings = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def in_process_parse_ms(model_path: Path, texts: list[str]) -> list[float]:
    """Parse latency of ``Agent.parse_message`` on a loaded model, one message at a time."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))
    loop = asyncio.new_event_loop()
    try:
        return time_each(texts, lambda text: loop.run_until_complete(agent.parse_message(text)))
    finally:
        loop.close()


def evaluate(model_path: Path, texts: list[str]) -> dict:
    """Held-out summary and in-process parse latency of one model."""
    summary = evaluate_model(model_path, HELDOUT).summary()
    return {"heldout": summary, "parse": latency_stats(in_process_parse_ms(model_path, texts))}


def checked_post(url: str, body: dict) -> object:
    """POSTs JSON and fails loudly on anything but 200, so errors are not timed as answers."""
    status, reply = http_json("POST", url, body, timeout=30)
    if status != 200:
        raise RuntimeError(f"POST {url.split('?')[0]} returned {status}: {reply}")
    return reply


def http_latencies(model_path: Path, work_dir: Path, texts: list[str]) -> dict:
    """/model/parse and REST webhook latency on servers started like ``bot run`` starts them."""
    settings = Settings(var_dir=work_dir, database_url=f"sqlite:///{work_dir / 'clinic.db'}")
    prepare_database(settings)
    token = secrets.token_urlsafe(24)
    servers = ServerSet(
        settings,
        model_path,
        token,
        rasa_port=RASA_PORT,
        action_port=ACTION_PORT,
        log_dir=work_dir / "logs",
    )
    started = time.monotonic()
    servers.start()
    try:
        startup_s = time.monotonic() - started
        parse_url = f"{servers.rasa_url}/model/parse?token={token}"
        rest_url = f"{servers.rasa_url}/webhooks/rest/webhook"
        parse_ms = time_each(texts, lambda text: checked_post(parse_url, {"text": text}))
        # A fresh sender per message: each is the first message of a new conversation.
        rest_ms = time_each(
            texts,
            lambda text: checked_post(
                rest_url, {"sender": f"bench-{uuid.uuid4().hex}", "message": text}
            ),
        )
    finally:
        servers.stop()
    return {
        "startup_s": round(startup_s, 1),
        "http_parse": latency_stats(parse_ms),
        "rest": latency_stats(rest_ms),
    }


# Rows of the comparison table: label, where the figure is, and how to compare it.
# "accuracy" ratios are ours/stock, "time" ratios stock/ours, "count" has no ratio.
TABLE = (
    ("held-out FAQ accuracy", ("heldout", "faq_accuracy"), "accuracy"),
    ("overall accuracy", ("heldout", "accuracy"), "accuracy"),
    ("safety_to_faq (count)", ("heldout", "safety_to_faq"), "count"),
    ("training s (cold)", ("train_cold_s",), "time"),
    ("parse p50 ms", ("parse", "p50_ms"), "time"),
    ("parse p95 ms", ("parse", "p95_ms"), "time"),
)


def dig(figures: dict | None, keys: tuple[str, ...]) -> float | None:
    """A nested value, or None where it is missing (e.g. the stock pipeline was skipped)."""
    value: object = figures
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value  # type: ignore[return-value]


def ratio(numerator: float | None, denominator: float | None) -> str:
    """``numerator/denominator`` formatted, or a dash when it cannot be computed."""
    if numerator is None or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


def cell(value: float | None, kind: str) -> str:
    """One table cell."""
    if value is None:
        return "skipped"
    if kind == "accuracy":
        return f"{value:.4f}"
    return f"{value:.0f}" if kind == "count" else f"{value:.1f}"


def print_report(results: dict) -> None:
    """The side-by-side table, the HTTP figures and the goals."""
    ours, stock = results["ours"], results.get("stock")
    stock_label = "stock" if stock is None else f"stock ({results['args']['stock_epochs']} ep)"
    print(f"\n{'':<26}{'ours':>12}{stock_label:>18}{'ratio':>10}")
    for label, keys, kind in TABLE:
        mine, theirs = dig(ours, keys), dig(stock, keys)
        rate = {"accuracy": ratio(mine, theirs), "time": ratio(theirs, mine)}.get(kind, "-")
        print(f"{label:<26}{cell(mine, kind):>12}{cell(theirs, kind):>18}{rate:>10}")
    print("  (ratio: ours/stock for accuracy, stock/ours for time)")
    print(
        f"\nours, training with Rasa's cache: fill {ours['train_cache_fill_s']} s, "
        f"retrain {ours['train_cached_s']} s"
    )
    http = ours["http"]
    print(f"ours over HTTP (servers up in {http['startup_s']} s):")
    for label, key in (("/model/parse", "http_parse"), ("REST webhook", "rest")):
        stats = http[key]
        print(f"  {label:<14} p50 {stats['p50_ms']:>7.2f} ms   p95 {stats['p95_ms']:>7.2f} ms")
    print("\ngoals")
    measured = {
        "parse_p95_ms": ours["parse"]["p95_ms"],
        "rest_p95_ms": http["rest"]["p95_ms"],
        "train_cold_s": ours["train_cold_s"],
    }
    for key, label, limit, unit in GOALS:
        value = measured[key]
        verdict = "met" if value < limit else "NOT met"
        print(f"  {label:<30} < {limit:g} {unit:<3} measured {value:>8.2f} {unit:<3} {verdict}")


def run(args: argparse.Namespace) -> dict:
    """Runs every measurement and returns the figures."""
    texts = [text for _, text in load_nlu_examples(HELDOUT)]
    results: dict = {
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "args": vars(args),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "heldout_messages": len(texts),
    }
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as tmp:
        work = Path(tmp)
        print("training our pipeline (cache disabled) ...", flush=True)
        model, cold_s = timed_train(work / "ours-cold", "config.yml", cache_dir=None)
        print(
            f"  {cold_s:.1f} s\ntraining again with an empty, then a filled Rasa cache ...",
            flush=True,
        )
        _, fill_s = timed_train(work / "ours-cached", "config.yml", cache_dir=work / "cache")
        _, cached_s = timed_train(work / "ours-cached", "config.yml", cache_dir=work / "cache")
        print(f"  {fill_s:.1f} s, {cached_s:.1f} s\nevaluating our model ...", flush=True)
        ours = {
            "train_cold_s": round(cold_s, 1),
            "train_cache_fill_s": round(fill_s, 1),
            "train_cached_s": round(cached_s, 1),
            **evaluate(model, texts),
        }
        print("measuring over HTTP (ports " f"{RASA_PORT} and {ACTION_PORT}) ...", flush=True)
        ours["http"] = http_latencies(model, work / "var", texts)
        results["ours"] = ours
        if not args.skip_stock:
            config = write_stock_config(work / "stock-config.yml", args.stock_epochs)
            print(
                f"training the stock pipeline ({args.stock_epochs} epochs, cache disabled) ...",
                flush=True,
            )
            stock_model, stock_s = timed_train(work / "stock", str(config), cache_dir=None)
            print(f"  {stock_s:.1f} s\nevaluating the stock model ...", flush=True)
            results["stock"] = {"train_cold_s": round(stock_s, 1), **evaluate(stock_model, texts)}
    return results


def main(argv: list[str] | None = None) -> None:
    """Parses options, runs the benchmark, prints the report and writes the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stock-epochs",
        type=int,
        default=100,
        help="DIET and ResponseSelector epochs of the stock pipeline",
    )
    parser.add_argument(
        "--skip-stock",
        action="store_true",
        help="do not train the stock pipeline (it takes 10-20 min on 2 cores)",
    )
    args = parser.parse_args(argv)
    # Unconfigured, Rasa's structlog prints a debug line per parse, which also slows parsing.
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    started = time.monotonic()
    results = run(args)
    results["total_s"] = round(time.monotonic() - started, 1)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS_DIR / f"benchmark-{stamp}.json"
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print_report(results)
    print(f"\ntotal {results['total_s']:.0f} s; figures in {out.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
