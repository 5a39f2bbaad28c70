"""Training the Rasa model once per change of its inputs, and evaluating it on held-out data."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.intents import CLINICAL, FAQ_INTENTS, SAFETY_INTENTS

logger = logging.getLogger(__name__)

MODEL_PREFIX = "clinic-"
# Everything that changes what `rasa train` produces.
TRAINING_INPUTS = (
    "config.yml",
    "domain.yml",
    "data/nlu",
    "data/rules",
    "bot/nlu",
    "bot/safety",
    "data/safety",
    "requirements/lock.txt",
    "requirements/no-deps.txt",
)


def inputs_hash(root: Path = PROJECT_ROOT, inputs: tuple[str, ...] = TRAINING_INPUTS) -> str:
    """A hash of the training inputs: same hash, same model."""
    digest = hashlib.sha256()
    for name in inputs:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix in {".pyc"} or "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path_for(models_dir: Path, digest: str) -> Path:
    return models_dir / f"{MODEL_PREFIX}{digest}.tar.gz"


def train(
    models_dir: Path,
    root: Path = PROJECT_ROOT,
    config: str = "config.yml",
    nlu_data: tuple[str, ...] = ("data/nlu",),
    force: bool = False,
) -> tuple[Path, float | None]:
    """Trains unless a model for the current inputs exists; returns (path, seconds or None)."""
    digest = inputs_hash(root)
    target = model_path_for(models_dir, digest)
    if target.exists() and not force:
        return target, None
    models_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "train",
        "--config",
        config,
        "--domain",
        "domain.yml",
        "--data",
        *nlu_data,
        "data/rules",
        "--out",
        str(models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
        # Rasa's cache keys a component by its config and Rasa's own training data, not by
        # data/safety/ or our code: a change there must retrain, never reuse a stale part.
        "--force",
    ]
    subprocess.run(command, cwd=root, check=True, env=_quiet_env())
    return target, time.monotonic() - started


def _quiet_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Training embeds thousands of texts in batches: two encoder threads halve that time.
    env.setdefault("CLINIC_ENCODER_THREADS", "2")
    return env


def load_nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs of a Rasa YAML NLU file, in either example format."""
    import yaml

    pairs = []
    for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        if "intent" not in item:
            continue  # synonym, regex and lookup blocks hold no intent examples
        examples = item.get("examples") or ""
        if isinstance(examples, list):  # examples with metadata: [{"text": ..., "metadata": ...}]
            pairs += [(item["intent"], str(e["text"]).strip()) for e in examples]
            continue
        for line in str(examples).splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((item["intent"], line[2:].strip()))
    return pairs


def training_examples(root: Path = PROJECT_ROOT) -> list[tuple[str, str]]:
    """Every (intent, text) of the training data under ``root/data/nlu``."""
    return [
        pair
        for path in sorted((root / "data" / "nlu").glob("*.yml"))
        for pair in load_nlu_examples(path)
    ]


@dataclass
class Evaluation:
    """Held-out figures. ``predictions`` are (expected, predicted, confidence, text)."""

    predictions: list[tuple[str, str, float, str]] = field(default_factory=list)
    # Per prediction: the FAQ topic answered before a clinical handoff ("answer first"), if any.
    answered_first: list[str | None] = field(default_factory=list)

    @property
    def faq_accuracy(self) -> float:
        """FAQ messages that got the right vetted answer, alone or before a clinical handoff
        (a personal question on an FAQ topic: docs/safety.md)."""
        first = self.answered_first or [None] * len(self.predictions)
        faq = [(p, a) for p, a in zip(self.predictions, first, strict=False) if p[0] in FAQ_INTENTS]
        right = sum(p[0] == p[1] or (p[1] == CLINICAL and a == p[0]) for p, a in faq)
        return right / len(faq) if faq else 0.0

    @property
    def accuracy(self) -> float:
        n = len(self.predictions)
        return sum(p[0] == p[1] for p in self.predictions) / n if n else 0.0

    def recall(self, intent: str) -> float:
        rows = [p for p in self.predictions if p[0] == intent]
        return sum(p[1] == intent for p in rows) / len(rows) if rows else 0.0

    @property
    def safety_to_faq(self) -> list[tuple[str, str, float, str]]:
        """Clinical or urgent messages that would have received an FAQ answer."""
        return [p for p in self.predictions if p[0] in SAFETY_INTENTS and p[1] in FAQ_INTENTS]

    @property
    def urgent_missed(self) -> list[tuple[str, str, float, str]]:
        return [p for p in self.predictions if p[0] == "report_urgent_symptoms" and p[1] != p[0]]

    def confusions(self, top: int = 15) -> list[tuple[tuple[str, str], int]]:
        return Counter((p[0], p[1]) for p in self.predictions if p[0] != p[1]).most_common(top)

    def summary(self) -> dict:
        return {
            "examples": len(self.predictions),
            "faq_accuracy": round(self.faq_accuracy, 4),
            "accuracy": round(self.accuracy, 4),
            "urgent_recall": round(self.recall("report_urgent_symptoms"), 4),
            "clinical_recall": round(self.recall("clinical_question"), 4),
            "safety_to_faq": len(self.safety_to_faq),
            "fallbacks": sum(p[1] == "nlu_fallback" for p in self.predictions),
        }


def evaluate_model(model_path: Path, heldout: Path, progress: bool = False) -> Evaluation:
    """Parses every held-out message with the full pipeline (safety layer and fallback included)."""
    import asyncio

    from bot.safety.evaluation import load_agent

    agent = load_agent(model_path)
    evaluation = Evaluation()

    async def parse_all() -> None:
        from tqdm import tqdm

        examples = load_nlu_examples(heldout)
        for expected, text in tqdm(
            examples, desc=f"held-out {model_path.name}", disable=not progress
        ):
            result = await agent.parse_message(text)
            intent = result.get("intent") or {}
            evaluation.predictions.append(
                (expected, intent.get("name"), float(intent.get("confidence") or 0.0), text)
            )
            safety = result.get("safety") or {}
            evaluation.answered_first.append(
                safety.get("original_intent") if safety.get("answer_first") else None
            )

    asyncio.run(parse_all())
    return evaluation
