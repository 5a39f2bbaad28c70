"""Load test of Rasa's REST channel: concurrent patients holding multi-turn conversations.

Each simulated patient holds a conversation built (seeded, so reproducible) from the held-out
messages in ``data/eval/heldout.yml``: usually a greeting, 2-4 FAQ questions, sometimes a
clinical, cost/booking question or a request for a person, then thanks and/or goodbye, with a
random think time between turns. Every turn is ``POST {rasa_url}/webhooks/rest/webhook`` with
``{"sender", "message"}``; a reply counts as an error unless it is HTTP 200 with a non-empty
JSON list whose first item is an object whose ``metadata.kind`` is not ``"error"``.

Against a running server::

    python bench/load.py --rasa-url http://127.0.0.1:5005 --patients 50 --duration 60

or with its own action and Rasa servers (temporary SQLite database unless ``--database-url``)::

    python bench/load.py --model models/clinic-<hash>.tar.gz --patients 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/load.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from bot.config import HELDOUT_PATH, PROJECT_ROOT, Settings  # noqa: E402
from bot.intents import ADMIN_INTENTS, CLINICAL, FAQ_INTENTS, REQUEST_HUMAN  # noqa: E402
from bot.ops.servers import ServerSet  # noqa: E402

HELDOUT = PROJECT_ROOT / HELDOUT_PATH
WEBHOOK_PATH = "/webhooks/rest/webhook"
DEFAULT_PATIENTS = 50
# Seconds between a reply and the patient's next message. A person reads a 60-word answer and
# types a question in 15-30 s; 3-10 s is already a brisk patient. `--think-min 0.5
# --think-max 1.5` is the stress pace that finds where one Rasa process saturates.
DEFAULT_THINK_S = (3.0, 10.0)
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_SEED = 1
GREETING, THANKS, GOODBYE = "greet", "thank", "goodbye"
# Sorted once: iterating a frozenset of strings changes order with PYTHONHASHSEED.
FAQ_ORDER = tuple(sorted(FAQ_INTENTS))
ADMIN_ORDER = tuple(sorted(ADMIN_INTENTS))
NEEDED_INTENTS = frozenset(
    {GREETING, THANKS, GOODBYE, CLINICAL, REQUEST_HUMAN, *FAQ_ORDER, *ADMIN_ORDER}
)
# How often a conversation includes each optional step (rough guesses at real traffic).
P_GREETING = 0.8
P_CLINICAL = 0.25
P_PERSON = 0.15
P_ADMIN = 0.10
# Red-flag reports are left out: each opens an urgent escalation and they are rare in practice.


@dataclass(frozen=True)
class Turn:
    """One patient message and the intent its text was written for."""

    intent: str
    text: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: latency in ms (None without a reply) and error type."""

    latency_ms: float | None
    error: str | None
    kind: str | None = None


# --- pure parts: conversations, reply checks, statistics ------------------------------------
def texts_by_intent(path: Path = HELDOUT) -> dict[str, list[str]]:
    """The held-out messages grouped by intent, in file order.

    Args:
        path: A Rasa YAML NLU file.

    Returns:
        Intent name to its example texts.

    Raises:
        ValueError: The file lacks an intent the conversations need.
    """
    from bot.maintain.training import load_nlu_examples

    grouped: dict[str, list[str]] = {}
    for intent, text in load_nlu_examples(path):
        grouped.setdefault(intent, []).append(text)
    missing = sorted(NEEDED_INTENTS - {i for i, texts in grouped.items() if texts})
    if missing:
        raise ValueError(f"{path} has no examples for {', '.join(missing)}")
    return grouped


def build_conversation(rng: random.Random, texts: dict[str, list[str]]) -> list[Turn]:
    """One conversation: greeting, 2-4 distinct FAQ questions, maybe more, then goodbyes.

    Args:
        rng: The source of every random choice, so a seeded one gives the same conversation.
        texts: Held-out texts by intent (see :func:`texts_by_intent`).

    Returns:
        The patient's turns in order.
    """

    def turn(intent: str) -> Turn:
        return Turn(intent, rng.choice(texts[intent]))

    questions = [turn(intent) for intent in rng.sample(FAQ_ORDER, rng.randint(2, 4))]
    if rng.random() < P_CLINICAL:
        questions.insert(rng.randint(0, len(questions)), turn(CLINICAL))
    if rng.random() < P_ADMIN:
        questions.insert(rng.randint(0, len(questions)), turn(rng.choice(ADMIN_ORDER)))
    if rng.random() < P_PERSON:
        questions.append(turn(REQUEST_HUMAN))  # last: people ask for a person when stuck
    opening = [turn(GREETING)] if rng.random() < P_GREETING else []
    closing_roll = rng.random()
    if closing_roll < 0.45:
        closing = [turn(THANKS), turn(GOODBYE)]
    elif closing_roll < 0.75:
        closing = [turn(THANKS)]
    elif closing_roll < 0.9:
        closing = [turn(GOODBYE)]
    else:
        closing = []  # some just close the tab
    return opening + questions + closing


def patient_rng(seed: int, patient: int) -> random.Random:
    """The random source of one patient: its conversations and think times."""
    return random.Random(f"{seed}:{patient}")  # str seeds are hashed stably (not PYTHONHASHSEED)


def conversation_counts(conversations: int, patients: int) -> list[int]:
    """How many conversations each patient holds so that they add up to ``conversations``."""
    base, extra = divmod(conversations, patients)
    return [base + (index < extra) for index in range(patients)]


def classify_reply(status: int, raw: bytes) -> tuple[str | None, str | None]:
    """Checks one webhook reply.

    Args:
        status: The HTTP status.
        raw: The response body.

    Returns:
        ``(error type or None, metadata.kind of the first message or None)``.
    """
    if status != 200:
        return f"http_{status}", None
    try:
        body = json.loads(raw)
    except ValueError:
        return "invalid_json", None
    if not isinstance(body, list):
        return "not_a_list", None
    if not body:
        return "empty_reply", None
    first = body[0]
    if not isinstance(first, dict):
        return "malformed_message", None
    metadata = first.get("metadata")
    kind = metadata.get("kind") if isinstance(metadata, dict) else None
    if kind == "error":
        return "kind_error", kind
    return None, kind if isinstance(kind, str) else None


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linearly interpolated between closest ranks.

    Same definition as numpy's default and ``statistics.quantiles(method="inclusive")``.

    Raises:
        ValueError: ``values`` is empty or ``q`` is outside 0-100.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0-100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(milliseconds: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50/p95/p99, mean and max of latencies in ms (None figures when there are none)."""
    if not milliseconds:
        return {
            "n": 0,
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "mean_ms": None,
            "max_ms": None,
        }
    return {
        "n": len(milliseconds),
        "p50_ms": round(percentile(milliseconds, 50), 2),
        "p95_ms": round(percentile(milliseconds, 95), 2),
        "p99_ms": round(percentile(milliseconds, 99), 2),
        "mean_ms": round(sum(milliseconds) / len(milliseconds), 2),
        "max_ms": round(max(milliseconds), 2),
    }


def summarize(outcomes: Sequence[Outcome], wall_s: float) -> dict:
    """The figures of a load run from its outcomes.

    Latency percentiles are over successful replies only; every failure is counted by type.
    """
    errors = Counter(o.error for o in outcomes if o.error is not None)
    ok = [o for o in outcomes if o.error is None]
    return {
        "messages": len(outcomes),
        "ok": len(ok),
        "errors": sum(errors.values()),
        "errors_by_type": dict(sorted(errors.items())),
        "reply_kinds": dict(sorted(Counter(o.kind or "(none)" for o in ok).items())),
        "latency_ms": latency_summary([o.latency_ms for o in ok if o.latency_ms is not None]),
        "wall_s": round(wall_s, 2),
        "messages_per_s": round(len(outcomes) / wall_s, 2) if wall_s > 0 else None,
    }


# --- CPU accounting (Linux /proc; empty elsewhere) ------------------------------------------
def _group_cpu_ticks(groups: dict[str, int]) -> dict[str, int]:
    """User+system clock ticks used so far by the live processes of each process group."""
    ticks = dict.fromkeys(groups, 0)
    names = {pgid: name for name, pgid in groups.items()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the ")" that ends the command name: state is field 3 of proc(5).
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        name = names.get(int(fields[2]))  # pgrp
        if name is not None:
            ticks[name] += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU seconds used between construction and :meth:`read`: by the watched process groups,
    by this process (the load generator) and by the whole machine, so contention from other
    processes on a shared machine shows up in the figures."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = groups
        self.available = Path("/proc/stat").exists()
        self._wall = time.monotonic()
        self._own = time.process_time()
        if self.available:
            self._groups = _group_cpu_ticks(groups)
            self._machine = _machine_ticks()

    def read(self) -> dict[str, float | int | dict[str, float] | None]:
        """The CPU seconds used since construction."""
        wall = time.monotonic() - self._wall
        own = time.process_time() - self._own
        if not self.available:
            return {"wall_s": round(wall, 2), "load_generator_s": round(own, 2)}
        tick = os.sysconf("SC_CLK_TCK")
        groups = _group_cpu_ticks(self.groups)
        busy, total = _machine_ticks()
        servers = {n: round((groups[n] - self._groups[n]) / tick, 2) for n in self.groups}
        machine_busy = (busy - self._machine[0]) / tick
        return {
            "wall_s": round(wall, 2),
            "cpus": os.cpu_count(),
            "servers_s": servers,
            # Rasa handles messages on one event loop: near 100 % of a core means saturated.
            "servers_pct_of_core": {n: round(100 * v / wall, 1) for n, v in servers.items()},
            "load_generator_s": round(own, 2),
            "machine_busy_s": round(machine_busy, 2),
            "machine_capacity_s": round((total - self._machine[1]) / tick, 2),
            # Whatever else ran meanwhile (other people's processes on a shared machine).
            "others_s": round(machine_busy - sum(servers.values()) - own, 2),
        }


def server_groups(servers: ServerSet) -> dict[str, int]:
    """Process group ids of the started servers by name (each is started in its own session)."""
    groups = {}
    for process in servers.processes:
        args = list(process.args)  # type: ignore[arg-type]
        name = "actions" if "actions" in args else "web" if "web" in args else "rasa"
        groups[name] = process.pid
    return groups


# --- the load itself ------------------------------------------------------------------------
async def post_message(
    session: aiohttp.ClientSession, url: str, sender: str, text: str, timeout_s: float
) -> Outcome:
    """Sends one message and classifies the reply; never raises for a failed request."""
    started = time.perf_counter()
    try:
        async with session.post(
            url,
            json={"sender": sender, "message": text},
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            raw = await response.read()
            status = response.status
    except asyncio.TimeoutError:
        return Outcome(None, "timeout")
    except aiohttp.ClientError as error:
        return Outcome(None, f"connection:{type(error).__name__}")
    latency_ms = (time.perf_counter() - started) * 1000
    error, kind = classify_reply(status, raw)
    return Outcome(latency_ms, error, kind)


async def run_load(
    rasa_url: str,
    patients: int = DEFAULT_PATIENTS,
    *,
    duration_s: float | None = None,
    conversations: int | None = None,
    think_s: tuple[float, float] = DEFAULT_THINK_S,
    seed: int = DEFAULT_SEED,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    heldout: Path = HELDOUT,
    watch: dict[str, int] | None = None,
) -> dict:
    """Runs ``patients`` concurrent conversations against Rasa's REST channel.

    Args:
        rasa_url: Base URL of the Rasa server, e.g. ``http://127.0.0.1:5005``.
        patients: Concurrent patients; each holds one conversation after another.
        duration_s: Stop sending new messages after this many seconds.
        conversations: Hold this many conversations in all (spread over the patients).
            Without either bound every patient holds one conversation.
        think_s: Range of the random pause before each message after a patient's first.
        seed: Seed of every conversation and think time.
        timeout_s: Per-request timeout; a request that takes longer counts as an error.
        heldout: The NLU file the messages are taken from.
        watch: Process groups (name to id) whose CPU time to report, e.g. the servers'.

    Returns:
        The figures (see :func:`summarize`) and the settings of the run.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    if duration_s is None and conversations is None:
        conversations = patients
    texts = texts_by_intent(heldout)
    counts = (
        conversation_counts(conversations, patients)
        if conversations is not None
        else [-1] * patients  # -1: unbounded, until the deadline
    )
    url = rasa_url.rstrip("/") + WEBHOOK_PATH
    run_id = uuid.uuid4().hex[:8]  # senders unique across runs against the same tracker store
    outcomes: list[Outcome] = []
    started = time.monotonic()
    deadline = started + duration_s if duration_s is not None else math.inf
    held = 0
    finished = started  # when the last reply arrived: trailing think times are not load

    async def patient(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal held, finished
        rng = patient_rng(seed, index)
        # Staggered arrival: 50 patients do not all press enter in the same millisecond.
        await asyncio.sleep(rng.uniform(0, think_s[1]))
        number = 0
        while counts[index] < 0 or number < counts[index]:
            conversation = build_conversation(rng, texts)
            sender = f"load-{run_id}-p{index:03d}-c{number}"
            for position, turn in enumerate(conversation):
                if position or number:
                    await asyncio.sleep(rng.uniform(*think_s))
                if time.monotonic() >= deadline:
                    return
                held += not position
                outcomes.append(await post_message(session, url, sender, turn.text, timeout_s))
                finished = max(finished, time.monotonic())
            number += 1

    # One connection per patient, like browsers behind the web app would need.
    connector = aiohttp.TCPConnector(limit=patients)
    meter = CpuMeter(watch or {})
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(patient(index, session) for index in range(patients)))
    wall_s = finished - started
    return {
        "rasa_url": rasa_url,
        "patients": patients,
        "duration_s": duration_s,
        "conversations_bound": conversations,
        "conversations": held,
        "think_s": list(think_s),
        "seed": seed,
        "timeout_s": timeout_s,
        **summarize(outcomes, wall_s),
        "cpu": meter.read(),
    }


def format_report(report: dict) -> str:
    """A few lines for a terminal."""
    latency = report["latency_ms"]

    def ms(key: str) -> str:
        return "-" if latency[key] is None else f"{latency[key]:.1f}"

    errors = ", ".join(f"{k} {v}" for k, v in report["errors_by_type"].items()) or "none"
    kinds = ", ".join(f"{k} {v}" for k, v in report["reply_kinds"].items())
    return "\n".join(
        [
            f"patients {report['patients']}, conversations {report['conversations']}, "
            f"messages {report['messages']}, wall {report['wall_s']:.1f} s, "
            f"{report['messages_per_s']} msg/s",
            f"latency ms (ok replies): p50 {ms('p50_ms')}  p95 {ms('p95_ms')}  "
            f"p99 {ms('p99_ms')}  max {ms('max_ms')}",
            f"errors {report['errors']} ({errors})",
            f"reply kinds: {kinds}",
        ]
    )


# --- servers of our own ---------------------------------------------------------------------
def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(
    model_path: Path, work_dir: Path, database_url: str | None = None
) -> Iterator[ServerSet]:
    """The action server and Rasa server (no web app) for ``model_path``, warm, on free ports.

    Args:
        model_path: The model to serve.
        work_dir: Holds ``var/`` (with the SQLite database unless ``database_url``) and
            ``logs/`` (``rasa.log``, ``actions.log``).
        database_url: Tracker store and bot tables; default a fresh SQLite file in work_dir.

    Yields:
        The started servers.
    """
    from bot.ops.bootstrap import prepare_database

    var_dir = work_dir / "var"
    settings = Settings(
        var_dir=var_dir, database_url=database_url or f"sqlite:///{var_dir / 'clinic.db'}"
    )
    prepare_database(settings)
    servers = ServerSet(
        settings,
        model_path,
        secrets.token_urlsafe(24),
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=None,
        log_dir=work_dir / "logs",
    )
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


def main(argv: list[str] | None = None) -> int:
    """The command line; exits 1 when any message failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--rasa-url", help="a running Rasa server, e.g. http://127.0.0.1:5005")
    target.add_argument("--model", type=Path, help="start our own servers for this model")
    parser.add_argument(
        "--database-url", help="with --model: tracker store URL (default: temporary SQLite)"
    )
    parser.add_argument(
        "--work-dir", type=Path, help="with --model: keep database and logs here (default: temp)"
    )
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS)
    bound = parser.add_mutually_exclusive_group()
    bound.add_argument(
        "--duration", type=float, help="seconds of load (default: one conversation per patient)"
    )
    bound.add_argument("--conversations", type=int, help="conversations in all")
    parser.add_argument("--think-min", type=float, default=DEFAULT_THINK_S[0])
    parser.add_argument("--think-max", type=float, default=DEFAULT_THINK_S[1])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    options = {
        "patients": args.patients,
        "duration_s": args.duration,
        "conversations": args.conversations,
        "think_s": (args.think_min, args.think_max),
        "seed": args.seed,
        "timeout_s": args.timeout,
    }
    if args.rasa_url:
        report = asyncio.run(run_load(args.rasa_url, **options))
    else:
        work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="clinic-load-"))
        try:
            with serving(args.model.resolve(), work_dir.resolve(), args.database_url) as servers:
                print(f"servers up at {servers.rasa_url}; logs in {work_dir / 'logs'}", flush=True)
                report = asyncio.run(
                    run_load(servers.rasa_url, watch=server_groups(servers), **options)
                )
        finally:
            if args.work_dir is None:
                shutil.rmtree(work_dir, ignore_errors=True)
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
