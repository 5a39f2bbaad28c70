"""``bot train`` and ``bot evaluate``: the model and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.root import main
from bot.config import HELDOUT_PATH, PROJECT_ROOT, Settings


@main.command()
@click.option("--force", is_flag=True, help="Train even if a model for these inputs exists.")
@click.pass_obj
def train(settings: Settings, force: bool) -> None:
    """Train the model if its inputs (data, config, components) changed."""
    from bot.maintain.training import train as train_model

    path, seconds = train_model(settings.models_dir, force=force)
    if seconds is None:
        click.echo(f"model is up to date: {path.relative_to(PROJECT_ROOT)}")
    else:
        click.echo(f"trained {path.relative_to(PROJECT_ROOT)} in {seconds:.1f} s")


@main.command()
@click.option(
    "--heldout",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help=f"Held-out NLU examples [default: {HELDOUT_PATH}].",
)
@click.option("--json-out", type=click.Path(path_type=Path), help="Also write the figures here.")
@click.pass_obj
def evaluate(settings: Settings, heldout: Path | None, json_out: Path | None) -> None:
    """Score the current model on the held-out file (safety layer and fallback included) and
    on the safety sets (development and sealed): figures only."""
    from bot.maintain.training import evaluate_model
    from bot.maintain.training import train as train_model

    path, _ = train_model(settings.models_dir)
    evaluation = evaluate_model(path, heldout or settings.heldout_path)
    summary = evaluation.summary()
    for key, value in summary.items():
        click.echo(f"{key:>16}: {value}")
    for (expected, predicted), count in evaluation.confusions(10):
        click.echo(f"  confused {expected} -> {predicted}: {count}")
    safety = _safety_figures(path)
    faq = _faq_figures(path)
    if json_out:
        json_out.write_text(
            json.dumps({**summary, "safety_sets": safety, "faq_sets": faq}, indent=2)
        )


def _faq_figures(model: Path) -> dict[str, dict]:
    """Follow-ups and several questions in one message: figures only (sealed: never text)."""
    from bot.maintain.conversations import (
        faq_development_sets,
        faq_sealed_sets,
        format_faq_figures,
        score_faq_sets,
    )

    results = {}
    groups = {
        "FAQ in conversation, development (tuned on)": faq_development_sets(),
        "FAQ in conversation, sealed (never read, never tuned on)": faq_sealed_sets(),
    }
    if len(faq_sealed_sets()) > 1:
        # Each sealed set alone too: a newer set has been scored fewer times than an older one.
        groups.update(
            {f"FAQ in conversation, sealed, {p.name} alone": [p] for p in faq_sealed_sets()}
        )
    for title, paths in groups.items():
        if not paths:
            continue
        score = score_faq_sets(model, paths)
        figures = score.figures()
        click.echo(format_faq_figures(title, figures))
        for (expected, answered), count in score.confusions(8):
            click.echo(f"  confused {expected} -> {answered}: {count}")
        results[title] = figures
    return results


def _safety_figures(model: Path) -> dict[str, dict]:
    """Figures only, per set: the sealed sets' messages are never printed."""
    from bot.rasa_server import understanding
    from bot.safety.evaluation import (
        development_sets,
        format_figures,
        format_headline,
        score_set,
        sealed_sets,
    )

    understanding.install()  # score what the server does with several questions in one message
    results = {}
    groups = {
        "development sets (tuned on)": development_sets(),
        "sealed sets (never read, never tuned on)": sealed_sets(),
    }
    for title, paths in groups.items():
        if not paths:
            continue
        figures = score_set(model, paths).figures()
        click.echo(format_figures(title, figures))
        results[title] = {k: list(v) if isinstance(v, tuple) else v for k, v in figures.items()}
    for path in sealed_sets():  # each sealed set alone: they were written and first scored apart
        click.echo(format_headline(path.stem, score_set(model, [path]).figures()))
    return results
