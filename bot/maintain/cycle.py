"""The maintainer commands' work, one function per step (the CLI only parses and prints)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from bot.config import HELDOUT_PATH, Settings, rasa_token
from bot.db.models import ModelVersion
from bot.db.session import session_scope
from bot.maintain import evaluate as evaluation
from bot.maintain import inbox, merge, promote
from bot.maintain.training import (
    TRAINING_INPUTS,
    evaluate_model,
    inputs_hash,
    model_path_for,
    train,
)

# A scratch copy holds the training inputs plus what Rasa and the evaluation read beside them.
SCRATCH_EXTRAS = ("endpoints.yml", "credentials.yml", "data/content", "data/eval")


def copy_training_inputs(target: Path, source: Path | None = None) -> Path:
    """A scratch copy of the project's training inputs, to try data changes without touching
    the real ones (same files, so the same input hash and the same trained model)."""
    import shutil

    from bot.config import PROJECT_ROOT

    source = source or PROJECT_ROOT
    for name in TRAINING_INPUTS + SCRATCH_EXTRAS:
        src, dst = source / name, target / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    return target


def models_dir(root: Path) -> Path:
    return root / "models"


def collect_inbox(settings: Settings, out: Path, progress: bool = True) -> tuple[int, int]:
    """Refreshes the inbox from the tracker store and writes the annotation file.

    Returns (new items, items in the file)."""
    with session_scope(settings.database_url) as session:
        new = inbox.refresh(session, inbox.collect(session, progress=progress))
    with session_scope(settings.database_url) as session:
        return new, inbox.export(session, out)


def merge_annotations(
    settings: Settings, root: Path, annotations: Path | None, by: str
) -> merge.MergeResult:
    with session_scope(settings.database_url) as session:
        if annotations is not None:
            merge.apply_annotations(session, annotations, by)
        return merge.merge(session, root)


def train_candidate(root: Path, force: bool = False) -> tuple[Path, float | None]:
    return train(models_dir(root), root=root, force=force)


@dataclass
class EvaluationOutcome:
    candidate: Path
    current: Path | None
    comparison: evaluation.Comparison
    report: Path
    objections: list[str]


def evaluate_candidate(
    settings: Settings,
    root: Path,
    folds: int = 5,
    report_dir: Path | None = None,
    progress: bool = True,
) -> EvaluationOutcome:
    """Scores the model of the current data against the active one; records both figures."""
    candidate_path, _ = train_candidate(root)
    heldout = root / HELDOUT_PATH
    candidate_eval = evaluate_model(candidate_path, heldout, progress)
    cv = evaluation.cross_validate(root, folds, progress=progress).summary() if folds > 1 else None
    with session_scope(settings.database_url) as session:
        current = promote.active_version(session)
        current_path = Path(current.file) if current else None
        current_metrics = (current.metrics or {}).get("heldout") if current else None
        if current is not None and current_metrics is None and current_path.exists():
            current_metrics = evaluate_model(current_path, heldout, progress).summary()
            current.metrics = {**(current.metrics or {}), "heldout": current_metrics}
        candidate_metrics = candidate_eval.summary()
        promote.record_candidate(
            session, candidate_path, inputs_hash(root), {"heldout": candidate_metrics, "cv": cv}
        )
    comparison = evaluation.Comparison(candidate_metrics, current_metrics, cv)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report = (report_dir or settings.var_dir / "reports") / f"evaluation-{stamp}.md"
    evaluation.write_report(
        report,
        comparison,
        candidate_eval,
        candidate_path.name,
        current_path.name if current_path else None,
    )
    return EvaluationOutcome(
        candidate_path,
        current_path,
        comparison,
        report,
        promote.gate(candidate_metrics, current_metrics),
    )


def promote_candidate(
    settings: Settings,
    root: Path,
    by: str,
    force_reason: str | None = None,
    swap: bool = True,
) -> tuple[Path, list[str]]:
    """Promotes the evaluated model of the current data (see :func:`promote.promote`)."""
    candidate_path = model_path_for(models_dir(root), inputs_hash(root))
    loader = _loader(settings) if swap else None
    with session_scope(settings.database_url) as session:
        version = session.scalars(
            select(ModelVersion).where(ModelVersion.file == str(candidate_path))
        ).first()
        if promote.heldout_figures(version) is None:
            raise promote.PromotionRefused("evaluate the candidate first: bot maintain evaluate")
        try:
            objections = promote.promote(session, version, by, force_reason, loader)
        except promote.PromotionRefused:
            session.commit()  # keep the "refused" status on record
            raise
    return candidate_path, objections


def _loader(settings: Settings):  # noqa: ANN202
    def load(path: Path) -> None:
        promote.load_into_server(settings.rasa_url, rasa_token(settings), path)

    return load


def rollback_model(settings: Settings, by: str, swap: bool = True) -> Path:
    loader = _loader(settings) if swap else None
    with session_scope(settings.database_url) as session:
        return Path(promote.rollback(session, by, loader).file)
