"""Benchmark of the assistant against the stock ``rasa init`` configuration, side by side.

Trains our configuration (config.yml) and the configuration ``rasa init`` 3.6 gives a new
project (its default pipeline and policies, with configurable epochs) on the same data, then
measures for both: held-out accuracy, training time, in-process parse latency, sequential REST
latency, and end-to-end latency, errors and throughput with 50 concurrent patients holding
conversations (``bench/load.py``). Prints the table and the goals, and writes both as Markdown
and JSON to ``bench/results/benchmark-<UTC timestamp>.{md,json}`` and ``latest.{md,json}``.

Run with ``make bench`` (or ``.venv/bin/python bench/benchmark.py --help``; ``--quick`` for a
smoke run). Nothing in the repository is changed: models, caches, databases and server logs
live in a temporary directory that is removed at the end (server logs of a load run with errors
are copied to ``bench/results/``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import platform
import shutil
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

from bench.load import (  # noqa: E402
    DEFAULT_PATIENTS,
    DEFAULT_SEED,
    DEFAULT_THINK_S,
    run_load,
    server_groups,
    serving,
)
from bot.config import HELDOUT_PATH, PROJECT_ROOT  # noqa: E402
from bot.safety.evaluation import development_sets, sealed_sets  # noqa: E402

HELDOUT = PROJECT_ROOT / HELDOUT_PATH
from bench.stress import DEFAULT_RAMP, DEFAULT_STEP_S, QUICK_RAMP, saturation  # noqa: E402
from bot.config import PROJECT_ROOT  # noqa: E402
from bot.maintain.training import evaluate_model, load_nlu_examples, train  # noqa: E402
from bot.ops.servers import ServerError, ServerSet, http_json  # noqa: E402

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
WARMUP_PARSES = 3
DEFAULT_EPOCHS = 100
DEFAULT_LOAD_S = 60.0
QUICK_EPOCHS = 2
QUICK_LATENCY_TEXTS = 60
# What `rasa init` 3.6 trains with: its config.yml leaves pipeline and policies empty (the
# defaults are only shown as comments) and Rasa fills both from this file of the recipe.
STOCK_CONFIG_FILE = "engine/recipes/config_files/default_config.yml"
# Goals of our configuration on its own: (key in `measured`, label, limit, unit).
GOALS = (
    ("parse_p95_ms", "parse p95 (in-process)", 20.0, "ms"),
    ("rest_p95_ms", "REST p95, one patient at a time", 60.0, "ms"),
    ("train_cold_s", "retraining (cold, no cache)", 90.0, "s"),
)
LOAD_GOAL_PATIENTS = 50
LOAD_GOAL_P95_MS = 100.0
TRAIN_GOAL_SPEEDUP = 3.0


def stock_config(epochs: int) -> dict:
    """The configuration ``rasa init`` 3.6 trains with, with ``epochs`` for every ML component.

    Args:
        epochs: Epochs of DIETClassifier, ResponseSelector, UnexpecTEDIntentPolicy and TEDPolicy
            (Rasa's default is 100).

    Returns:
        The configuration as a dict for ``config.yml``.
    """
    spec = importlib.util.find_spec("rasa")
    assert spec is not None and spec.origin is not None, "rasa is installed"
    path = Path(spec.origin).parent / STOCK_CONFIG_FILE
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    for component in config["pipeline"] + config["policies"]:
        if "epochs" in component:
            component["epochs"] = epochs
    # An identifier, not a setting: ours avoids Rasa's warning about the placeholder.
    ours = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    config["assistant_id"] = ours["assistant_id"]
    return config


def write_stock_config(path: Path, epochs: int) -> Path:
    """Writes the stock configuration (see :func:`stock_config`) to ``path``."""
    path.write_text(yaml.safe_dump(stock_config(epochs), sort_keys=False), encoding="utf-8")
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
    from bot.safety.evaluation import load_agent

    agent = load_agent(model_path)
    loop = asyncio.new_event_loop()
    try:
        return time_each(texts, lambda text: loop.run_until_complete(agent.parse_message(text)))
    finally:
        loop.close()


SAFETY_SETS = {
    "dev": development_sets(),
    "sealed": sealed_sets(),
}


def safety_figures(model_path: Path) -> dict:
    """Rates and counts on the development and sealed safety sets (figures only), as the
    server understands each message (several questions parsed part by part)."""
    from bot.rasa_server import understanding
    from bot.safety.evaluation import score_set

    understanding.install()
    out: dict = {}
    for name, paths in SAFETY_SETS.items():
        figures = score_set(model_path, [p for p in paths if p.exists()]).figures()
        out[name] = {}
        for key, value in figures.items():
            if isinstance(value, tuple):
                hits, total = value
                out[name][key] = {"n": hits, "of": total, "rate": hits / total if total else None}
    return out


def evaluate(model_path: Path, texts: list[str]) -> dict:
    """Held-out summary, safety sets and in-process parse latency of one model."""
    summary = evaluate_model(model_path, HELDOUT).summary()
    return {
        "heldout": summary,
        "safety": safety_figures(model_path),
        "parse": latency_stats(in_process_parse_ms(model_path, texts)),
    }


def checked_post(url: str, body: dict) -> object:
    """POSTs JSON and fails loudly on anything but 200, so errors are not timed as answers."""
    status, reply = http_json("POST", url, body, timeout=30)
    if status != 200:
        raise RuntimeError(f"POST {url.split('?')[0]} returned {status}: {reply}")
    return reply


def serve_and_measure(
    label: str, model_path: Path, work_dir: Path, texts: list[str], args: argparse.Namespace
) -> dict:
    """Servers as ``bot run`` starts them (without the web app), on a fresh SQLite database:
    /model/parse and REST latency one message at a time, then the load test.

    Args:
        label: ``ours`` or ``stock``: names the log copy when the load test had errors.
        model_path: The model to serve.
        work_dir: Database and server logs go here.
        texts: Messages for the sequential latencies.
        args: The command line (load options, results stamp).

    Returns:
        Startup time, ``http_parse`` and ``rest`` latencies, and the ``load`` figures; or the
        ``error`` and where the server logs were kept when the servers did not start.
    """
    started = time.monotonic()
    try:
        with serving(model_path, work_dir) as servers:
            return _measure(servers, started, label, work_dir, texts, args)
    except (ServerError, RuntimeError, OSError) as error:
        # Recorded, not raised: the training and accuracy figures are still worth the report.
        logs = keep_logs(work_dir, label, args.stamp)
        print(f"  servers failed: {error!r}; logs in {logs}", flush=True)
        return {"error": f"servers failed: {error!r}", "server_logs": logs}


def keep_logs(work_dir: Path, label: str, stamp: str) -> str:
    """Copies the server logs to bench/results (the work directory is removed at the end)."""
    if not (work_dir / "logs").is_dir():
        return "(no logs)"
    logs = RESULTS_DIR / f"logs-{stamp}-{label}"
    shutil.copytree(work_dir / "logs", logs, dirs_exist_ok=True)
    return str(logs.relative_to(PROJECT_ROOT))


def _measure(
    servers: ServerSet,
    started: float,
    label: str,
    work_dir: Path,
    texts: list[str],
    args: argparse.Namespace,
) -> dict:
    """The measurements of :func:`serve_and_measure` on started servers."""
    startup_s = time.monotonic() - started
    parse_url = f"{servers.rasa_url}/model/parse?token={servers.token}"
    rest_url = f"{servers.rasa_url}/webhooks/rest/webhook"
    print(f"  servers up in {startup_s:.1f} s; one message at a time ...", flush=True)
    parse_ms = time_each(texts, lambda text: checked_post(parse_url, {"text": text}))
    # A fresh sender per message: each is the first message of a new conversation.
    rest_ms = time_each(
        texts,
        lambda text: checked_post(
            rest_url, {"sender": f"bench-{uuid.uuid4().hex}", "message": text}
        ),
    )
    bound = "one conversation each" if args.quick else f"{args.load_duration:g} s"
    print(f"  load: {args.patients} concurrent patients, {bound} ...", flush=True)
    load = asyncio.run(
        run_load(
            servers.rasa_url,
            args.patients,
            duration_s=None if args.quick else args.load_duration,
            think_s=(args.think_min, args.think_max),
            seed=args.seed,
            watch=server_groups(servers),
        )
    )
    if load["errors"]:
        load["server_logs"] = keep_logs(work_dir, label, args.stamp)  # keep the evidence
    print("  stress: patients thinking 0.5-1.5 s, doubling until throughput stops growing ...",
          flush=True)  # fmt: skip
    stress = saturation(
        servers.rasa_url,
        ramp=QUICK_RAMP if args.quick else DEFAULT_RAMP,
        step_s=5.0 if args.quick else args.stress_step,
        watch=server_groups(servers),
    )
    return {
        "startup_s": round(startup_s, 1),
        "http_parse": latency_stats(parse_ms),
        "rest": latency_stats(rest_ms),
        "load": load,
        "stress": stress,
    }


# Rows of the comparison table: label, where the figure is, and how to compare it.
# "accuracy" and "rate" ratios are ours/stock, "time" ratios stock/ours; "count" and "pct"
# have none.
TABLE = (
    ("held-out FAQ accuracy", ("heldout", "faq_accuracy"), "accuracy"),
    ("held-out overall accuracy", ("heldout", "accuracy"), "accuracy"),
    ("safety msgs answered as FAQ", ("heldout", "safety_to_faq"), "count"),
    ("sealed: urgent recall", ("safety", "sealed", "urgent_recall", "rate"), "accuracy"),
    ("sealed: urgent or lang. notice", ("safety", "sealed", "urgent_recall_or_language_notice",
     "rate"), "accuracy"),  # fmt: skip
    ("sealed: urgent -> FAQ/OOS/fallbk", ("safety", "sealed",
     "urgent_answered_faq_admin_oos_fallback", "n"), "count"),  # fmt: skip
    ("sealed: clinical -> FAQ alone", ("safety", "sealed", "clinical_answered_faq_alone", "n"),
     "count"),  # fmt: skip
    ("sealed: alarming general urgent", ("safety", "sealed", "alarming_general_treated_urgent",
     "rate"), "accuracy"),  # fmt: skip
    ("dev: urgent recall", ("safety", "dev", "urgent_recall", "rate"), "accuracy"),
    ("dev: alarming general urgent", ("safety", "dev", "alarming_general_treated_urgent", "rate"),
     "accuracy"),  # fmt: skip
    ("training s (cold)", ("train_cold_s",), "time"),
    ("parse p50 ms (in process)", ("parse", "p50_ms"), "time"),
    ("parse p95 ms (in process)", ("parse", "p95_ms"), "time"),
    ("REST p50 ms (sequential)", ("http", "rest", "p50_ms"), "time"),
    ("REST p95 ms (sequential)", ("http", "rest", "p95_ms"), "time"),
    ("load: end-to-end p50 ms", ("http", "load", "latency_ms", "p50_ms"), "time"),
    ("load: end-to-end p95 ms", ("http", "load", "latency_ms", "p95_ms"), "time"),
    ("load: end-to-end p99 ms", ("http", "load", "latency_ms", "p99_ms"), "time"),
    ("load: end-to-end max ms", ("http", "load", "latency_ms", "max_ms"), "time"),
    ("load: messages", ("http", "load", "messages"), "count"),
    ("load: errors", ("http", "load", "errors"), "count"),
    ("load: messages/s", ("http", "load", "messages_per_s"), "rate"),
    ("load: Rasa CPU, % of a core", ("http", "load", "cpu", "servers_pct_of_core", "rasa"), "pct"),
    ("stress: saturation msgs/s", ("http", "stress", "saturation_messages_per_s"), "rate"),
    ("stress: patients at saturation", ("http", "stress", "saturation_patients"), "count"),
    ("stress: p95 ms at saturation", ("http", "stress", "saturation_p95_ms"), "time"),
    ("start to ready s (warm)", ("http", "startup_s"), "time"),
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
        return "-"
    if kind == "accuracy":
        return f"{value:.4f}"
    if kind == "pct":
        return f"{value:.0f} %"
    return f"{value:.0f}" if kind == "count" else f"{value:.1f}"


def table_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(label, ours, stock, ratio) for every row of the comparison table."""
    ours, stock = results["ours"], results.get("stock")
    rows = []
    for label, keys, kind in TABLE:
        mine, theirs = dig(ours, keys), dig(stock, keys)
        rate = ratio(theirs, mine) if kind == "time" else ratio(mine, theirs)
        rows.append(
            (label, cell(mine, kind), cell(theirs, kind), "-" if kind in ("count", "pct") else rate)
        )
    return rows


def stock_label(results: dict) -> str:
    """The heading of the stock column."""
    if results.get("stock") is None:
        return "stock (skipped)"
    return f"stock ({results['args']['epochs']} ep)"


def goal_lines(results: dict) -> list[tuple[str, str, str]]:
    """(goal, measured, verdict) for our configuration; verdict ``met``, ``NOT met`` or ``n/a``."""
    ours, stock = results["ours"], results.get("stock")
    lines = []
    measured = {
        "parse_p95_ms": dig(ours, ("parse", "p95_ms")),
        "rest_p95_ms": dig(ours, ("http", "rest", "p95_ms")),
        "train_cold_s": dig(ours, ("train_cold_s",)),
    }
    for key, label, limit, unit in GOALS:
        value = measured[key]
        if value is None:
            lines.append((f"{label} < {limit:g} {unit}", "not measured", "n/a"))
            continue
        verdict = "met" if value < limit else "NOT met"
        lines.append((f"{label} < {limit:g} {unit}", f"{value:.2f} {unit}", verdict))

    load_goal = f"end-to-end p95 < {LOAD_GOAL_P95_MS:g} ms, {LOAD_GOAL_PATIENTS} patients, 0 errors"
    load = dig(ours, ("http", "load"))
    measured_load = _load_goal(load) if isinstance(load, dict) else ("not measured", "n/a")
    lines.append((load_goal, *measured_load))
    lines.append(_train_goal(ours, stock))
    lines += _stock_goals(ours, stock)
    return lines


# Issue 14: ours against stock in the same run (ratios, the machine is shared), and the start.
STOCK_GOALS = (
    ("parse p95 in process <= stock", ("parse", "p95_ms"), "lower"),
    ("load end-to-end p95 <= stock", ("http", "load", "latency_ms", "p95_ms"), "lower"),
    ("load end-to-end p99 <= stock", ("http", "load", "latency_ms", "p99_ms"), "lower"),
    ("saturation msgs/s >= stock", ("http", "stress", "saturation_messages_per_s"), "higher"),
    ("start to ready <= stock", ("http", "startup_s"), "lower"),
)
START_GOAL_S = 15.0


def _stock_goals(ours: dict, stock: dict | None) -> list[tuple[str, str, str]]:
    lines = []
    start = dig(ours, ("http", "startup_s"))
    lines.append((
        f"start to ready <= {START_GOAL_S:g} s",
        "not measured" if start is None else f"{start:.1f} s",
        "n/a" if start is None else ("met" if start <= START_GOAL_S else "NOT met"),
    ))  # fmt: skip
    for label, keys, better in STOCK_GOALS:
        mine, theirs = dig(ours, keys), dig(stock, keys)
        if mine is None or theirs is None:
            lines.append((label, "not measured", "n/a"))
            continue
        met = mine <= theirs if better == "lower" else mine >= theirs
        lines.append((label, f"{mine:g} vs {theirs:g}", "met" if met else "NOT met"))
    return lines


def _load_goal(load: dict) -> tuple[str, str]:
    """(measured, verdict) of the load goal."""
    p95 = load["latency_ms"]["p95_ms"]
    shown = "-" if p95 is None else f"{p95:.1f} ms"
    text = f"p95 {shown}, {load['errors']} errors, {load['patients']} patients"
    if load["patients"] != LOAD_GOAL_PATIENTS:
        verdict = f"n/a ({load['patients']} patients, not {LOAD_GOAL_PATIENTS})"
    else:
        met = p95 is not None and p95 < LOAD_GOAL_P95_MS and load["errors"] == 0
        verdict = "met" if met else "NOT met"
    return text, verdict


def _train_goal(ours: dict, stock: dict | None) -> tuple[str, str, str]:
    """(goal, measured, verdict) of the training goal."""
    label = f"training >= {TRAIN_GOAL_SPEEDUP:g}x faster than stock, accuracy >= stock"
    if stock is None:
        return label, "stock skipped", "n/a"
    speedup = stock["train_cold_s"] / ours["train_cold_s"]
    faq, stock_faq = ours["heldout"]["faq_accuracy"], stock["heldout"]["faq_accuracy"]
    acc, stock_acc = ours["heldout"]["accuracy"], stock["heldout"]["accuracy"]
    met = speedup >= TRAIN_GOAL_SPEEDUP and faq >= stock_faq and acc >= stock_acc
    text = f"{speedup:.1f}x; FAQ {faq:.4f} vs {stock_faq:.4f}; all {acc:.4f} vs {stock_acc:.4f}"
    return label, text, "met" if met else "NOT met"


def load_details(results: dict) -> list[str]:
    """Error types, reply kinds and CPU use of each load run."""
    lines = []
    for name in ("ours", "stock"):
        http = dig(results.get(name), ("http",))
        if isinstance(http, dict) and "error" in http:
            lines.append(f"{name}: {http['error']}; server logs in {http['server_logs']}")
        load = dig(results.get(name), ("http", "load"))
        if not isinstance(load, dict):
            continue
        errors = ", ".join(f"{k} {v}" for k, v in load["errors_by_type"].items()) or "none"
        kinds = ", ".join(f"{k} {v}" for k, v in load["reply_kinds"].items())
        cpu = load.get("cpu", {})
        servers = ", ".join(f"{k} {v} s" for k, v in cpu.get("servers_s", {}).items())
        lines.append(
            f"{name}: {load['conversations']} conversations, {load['messages']} messages in "
            f"{load['wall_s']:.1f} s; errors: {errors}; replies: {kinds}"
        )
        if servers:
            lines.append(
                f"{name}: CPU during the load: {servers}, load generator "
                f"{cpu['load_generator_s']} s, other processes {cpu['others_s']} s "
                f"(machine {cpu['machine_busy_s']} of {cpu['machine_capacity_s']} s busy)"
            )
        if "server_logs" in load:
            lines.append(f"{name}: server logs of the load run in {load['server_logs']}")
    return lines


def load_note(args: dict) -> str:
    """How the load was made."""
    bound = "one conversation each" if args["quick"] else f"{args['load_duration']:g} s"
    return (
        f"load: {args['patients']} concurrent patients, {bound}, think time "
        f"{args['think_min']:g}-{args['think_max']:g} s, seed {args['seed']}; "
        "latency over successful replies"
    )


def render_text(results: dict) -> str:
    """The report for the terminal."""
    out = [f"\n{'':<30}{'ours':>12}{stock_label(results):>18}{'ratio':>10}"]
    for label, mine, theirs, rate in table_rows(results):
        out.append(f"{label:<30}{mine:>12}{theirs:>18}{rate:>10}")
    out.append("  (ratio: ours/stock for accuracy and messages/s, stock/ours for times)")
    out.append(f"  ({load_note(results['args'])})")
    ours = results["ours"]
    if "train_cached_s" in ours:
        out.append(
            f"\nours, training with Rasa's cache: fill {ours['train_cache_fill_s']} s, "
            f"retrain {ours['train_cached_s']} s"
        )
    out += [""] + load_details(results)
    out.append("\ngoals")
    goals = goal_lines(results)
    width = [max(len(line[column]) for line in goals) for column in (0, 1)]
    for goal, measured, verdict in goals:
        out.append(f"  {goal:<{width[0]}}  {measured:<{width[1]}}  {verdict}")
    return "\n".join(out)


def render_markdown(results: dict) -> str:
    """The report as Markdown."""
    machine = results["machine"]
    out = [
        f"# Benchmark {results['timestamp_utc']}",
        "",
        f"Python {machine['python']}, {machine['cpus']} CPUs, {machine['platform']}; "
        f"load average before {machine['loadavg_before']}, after {machine.get('loadavg_after')}; "
        f"total {results.get('total_s', 0):.0f} s; options `{json.dumps(results['args'])}`.",
        "",
        f"| | ours | {stock_label(results)} | ratio |",
        "|---|---:|---:|---:|",
    ]
    out += [
        f"| {label} | {mine} | {theirs} | {rate} |"
        for label, mine, theirs, rate in table_rows(results)
    ]
    out += [
        "",
        "Ratio: ours/stock for accuracy and messages/s, stock/ours for times. "
        f"{load_note(results['args'])}.",
        "",
    ]
    out += [f"- {line}" for line in load_details(results)]
    out += ["", "## Goals", "", "| goal | measured | verdict |", "|---|---|---|"]
    out += [
        f"| {goal} | {measured} | {verdict} |" for goal, measured, verdict in goal_lines(results)
    ]
    return "\n".join(out) + "\n"


def loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, where the platform has them."""
    with contextlib.suppress(OSError, AttributeError):
        return [round(value, 2) for value in os.getloadavg()]
    return None


@contextlib.contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    """A temporary directory, removed at the end unless ``keep``."""
    if keep:
        path = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
        print(f"work directory (kept): {path}", flush=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as tmp:
        yield Path(tmp)


def run(args: argparse.Namespace) -> dict:
    """Runs every measurement and returns the figures."""
    texts = [text for _, text in load_nlu_examples(HELDOUT)]
    latency_texts = texts[:QUICK_LATENCY_TEXTS] if args.quick else texts
    results: dict = {
        "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "args": vars(args),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before": loadavg(),
        },
        "heldout_messages": len(texts),
    }
    with work_directory(args.keep) as work:
        print("training our configuration (cache disabled) ...", flush=True)
        model, cold_s = timed_train(work / "ours-cold", "config.yml", cache_dir=None)
        ours: dict = {"train_cold_s": round(cold_s, 1)}
        print(f"  {cold_s:.1f} s", flush=True)
        if not args.quick:
            print("training again with an empty, then a filled Rasa cache ...", flush=True)
            _, fill_s = timed_train(work / "ours-cached", "config.yml", cache_dir=work / "cache")
            _, cached_s = timed_train(work / "ours-cached", "config.yml", cache_dir=work / "cache")
            print(f"  {fill_s:.1f} s, {cached_s:.1f} s", flush=True)
            ours |= {"train_cache_fill_s": round(fill_s, 1), "train_cached_s": round(cached_s, 1)}
        print("evaluating our model ...", flush=True)
        ours |= evaluate(model, latency_texts)
        print("measuring our model over HTTP ...", flush=True)
        ours["http"] = serve_and_measure("ours", model, work / "serve-ours", latency_texts, args)
        results["ours"] = ours
        if not args.skip_stock:
            config = write_stock_config(work / "stock-config.yml", args.epochs)
            results["stock_config"] = stock_config(args.epochs)
            print(
                f"training the stock configuration ({args.epochs} epochs, cache disabled) ...",
                flush=True,
            )
            stock_model, stock_s = timed_train(work / "stock", str(config), cache_dir=None)
            print(f"  {stock_s:.1f} s\nevaluating the stock model ...", flush=True)
            stock = {"train_cold_s": round(stock_s, 1), **evaluate(stock_model, latency_texts)}
            print("measuring the stock model over HTTP ...", flush=True)
            stock["http"] = serve_and_measure(
                "stock", stock_model, work / "serve-stock", latency_texts, args
            )
            results["stock"] = stock
    results["machine"]["loadavg_after"] = loadavg()
    return results


def write_results(results: dict, stamp: str) -> list[Path]:
    """Writes JSON and Markdown, timestamped and as ``latest``; returns the timestamped paths."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    as_json = json.dumps(results, indent=2)
    as_markdown = render_markdown(results)
    written = []
    for name in (f"benchmark-{stamp}", "latest"):
        (RESULTS_DIR / f"{name}.json").write_text(as_json, encoding="utf-8")
        (RESULTS_DIR / f"{name}.md").write_text(as_markdown, encoding="utf-8")
        written += [RESULTS_DIR / f"{name}.json", RESULTS_DIR / f"{name}.md"]
    return written[:2]


def main(argv: list[str] | None = None) -> None:
    """Parses options, runs the benchmark, prints the report and writes the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--epochs",
        "--stock-epochs",
        type=int,
        default=None,
        help=f"epochs of every ML component of the stock configuration (DIET, ResponseSelector,"
        f" UnexpecTED, TED); default {DEFAULT_EPOCHS}, {QUICK_EPOCHS} with --quick",
    )
    parser.add_argument(
        "--skip-stock",
        action="store_true",
        help="do not train the stock configuration (it takes 10-20 min on 2 cores)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: no cached retraining, stock epochs 2, 60 latency messages, "
        "one conversation per patient",
    )
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS)
    parser.add_argument(
        "--load-duration", type=float, default=DEFAULT_LOAD_S, help="seconds of load per model"
    )
    parser.add_argument("--think-min", type=float, default=DEFAULT_THINK_S[0])
    parser.add_argument("--think-max", type=float, default=DEFAULT_THINK_S[1])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--stress-step", type=float, default=DEFAULT_STEP_S, help="seconds per stress step"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (models, databases, logs)"
    )
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS
    args.stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    # Unconfigured, Rasa's structlog prints a debug line per parse, which also slows parsing.
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    started = time.monotonic()
    results = run(args)
    results["total_s"] = round(time.monotonic() - started, 1)
    written = write_results(results, args.stamp)
    print(render_text(results))
    shown = ", ".join(str(path.relative_to(PROJECT_ROOT)) for path in written)
    print(f"\ntotal {results['total_s']:.0f} s; results in {shown} (and latest.json/.md)")


if __name__ == "__main__":
    main()
