"""The gate, promotion into the running server (``PUT /model``), and rollback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ModelVersion, utcnow
from bot.ops.servers import http_json

MAX_FAQ_DROP = 0.01  # one point of held-out FAQ accuracy


class PromotionRefused(RuntimeError):
    """The candidate failed the gate (and no forced reason was given)."""


def gate(candidate: dict, current: dict | None) -> list[str]:
    """Why the candidate may not replace the current model; empty when it may."""
    if not current:
        return []
    reasons = []
    if candidate["faq_accuracy"] < current["faq_accuracy"] - MAX_FAQ_DROP:
        reasons.append(
            f"FAQ accuracy drops from {current['faq_accuracy']:.3f} "
            f"to {candidate['faq_accuracy']:.3f}"
        )
    for key in ("urgent_recall", "clinical_recall"):
        if candidate[key] < current[key]:
            reasons.append(f"{key} drops from {current[key]:.3f} to {candidate[key]:.3f}")
    if candidate["safety_to_faq"] > current["safety_to_faq"]:
        reasons.append(
            f"{candidate['safety_to_faq']} clinical/urgent messages would get an FAQ answer "
            f"(current: {current['safety_to_faq']})"
        )
    return reasons


def heldout_figures(version: ModelVersion | None) -> dict | None:
    """The held-out figures the gate compares (recorded by ``bot maintain evaluate``)."""
    return (version.metrics or {}).get("heldout") if version is not None else None


def active_version(session: Session) -> ModelVersion | None:
    return session.scalars(
        select(ModelVersion).where(ModelVersion.status == "active").order_by(ModelVersion.id.desc())
    ).first()


def record_candidate(session: Session, path: Path, data_hash: str, metrics: dict) -> ModelVersion:
    version = session.scalars(select(ModelVersion).where(ModelVersion.file == str(path))).first()
    if version is None:
        version = ModelVersion(
            file=str(path), data_hash=data_hash, status="candidate", created_at=utcnow()
        )
        session.add(version)
    version.metrics = metrics
    session.flush()
    return version


def load_into_server(rasa_url: str, token: str, path: Path) -> None:
    """Hot swap: Rasa loads the model file; trackers stay in the tracker store, so conversations
    in progress go on with the new model."""
    status, body = http_json(
        "PUT",
        f"{rasa_url.rstrip('/')}/model?token={token}",
        {"model_file": str(path.resolve())},
        120,
    )
    if status != 204:
        raise RuntimeError(f"the Rasa server refused the model (HTTP {status}): {body}")


def promote(
    session: Session,
    candidate: ModelVersion,
    by: str,
    force_reason: str | None = None,
    swap: Callable[[Path], None] | None = None,
) -> list[str]:
    """Makes ``candidate`` the active model if it passes the gate (or is forced with a reason).

    Returns the gate's objections that were overridden. ``swap(path)`` loads it into the server.

    Raises:
        PromotionRefused: the gate refused and there is no forced reason.
    """
    current = active_version(session)
    objections = gate(heldout_figures(candidate) or {}, heldout_figures(current))
    if objections and not force_reason:
        candidate.status = "refused"
        raise PromotionRefused("; ".join(objections))
    if swap is not None:
        swap(Path(candidate.file))
    if current is not None and current.id != candidate.id:
        current.status = "retired"
    candidate.status = "active"
    candidate.promoted_at = utcnow()
    candidate.promoted_by = by
    candidate.forced_reason = force_reason if objections else None
    return objections


def rollback(session: Session, by: str, swap: Callable[[Path], None] | None = None) -> ModelVersion:
    """Returns to the most recently retired model."""
    current = active_version(session)
    previous = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.status == "retired")
        .order_by(ModelVersion.promoted_at.desc())
    ).first()
    if previous is None:
        raise LookupError("no earlier model to roll back to")
    if swap is not None:
        swap(Path(previous.file))
    if current is not None:
        current.status = "retired"
    previous.status = "active"
    previous.promoted_at = utcnow()
    previous.promoted_by = by
    return previous
