"""``bot maintain``: missed questions into training data, and a model that is not less safe."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.root import main
from bot.config import PROJECT_ROOT, Settings


@main.group()
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT,
    show_default=True,
    help="Project folder whose data/ and models/ are used.",
)
@click.pass_context
def maintain(ctx: click.Context, root: Path) -> None:
    """Turn missed patient questions into training data and a safer model."""
    ctx.obj = (ctx.obj, root.resolve())


def _who() -> str:
    import getpass

    return getpass.getuser()


@maintain.command("inbox")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Annotation file (default: var/inbox.yml).",
)
@click.pass_obj
def maintain_inbox(obj: tuple[Settings, Path], out: Path | None) -> None:
    """Collect missed questions (fallback, unsure, handed off, flagged), redacted, de-duplicated."""
    from bot.maintain.cycle import collect_inbox

    settings, _ = obj
    out = out or settings.var_dir / "inbox.yml"
    new, total = collect_inbox(settings, out)
    click.echo(f"{new} new, {total} waiting in {out}")


@maintain.command("merge")
@click.option(
    "--annotations",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="An edited annotation file; without it, decisions made in the console.",
)
@click.option("--by", default=None, help="Who annotated (default: your user name).")
@click.pass_obj
def maintain_merge(obj: tuple[Settings, Path], annotations: Path | None, by: str | None) -> None:
    """Add annotated questions to data/nlu/from_patients.yml (skips duplicates and held-out)."""
    from bot.maintain.cycle import merge_annotations

    settings, root = obj
    result = merge_annotations(settings, root, annotations, by or _who())
    click.echo(
        f"added {len(result.added)} examples; skipped {len(result.duplicates)} duplicates "
        f"and {len(result.heldout)} held-out; {result.discarded} discarded"
    )
    for message in result.new_topics:
        click.echo(f"  new topic (an intent and a vetted answer, docs/maintainers.md): {message}")


@maintain.command("train")
@click.option("--force", is_flag=True)
@click.pass_obj
def maintain_train(obj: tuple[Settings, Path], force: bool) -> None:
    """Train a candidate model on the current data."""
    from bot.maintain.cycle import train_candidate

    _, root = obj
    path, seconds = train_candidate(root, force)
    click.echo(
        f"candidate {path.name}" + (f" trained in {seconds:.1f} s" if seconds else " (exists)")
    )


@maintain.command("evaluate")
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds (0: none).")
@click.pass_obj
def maintain_evaluate(obj: tuple[Settings, Path], folds: int) -> None:
    """Score candidate and current model on the held-out file; cross-validate; write a report."""
    from bot.maintain.cycle import evaluate_candidate

    settings, root = obj
    outcome = evaluate_candidate(settings, root, folds)
    current = outcome.comparison.current or {}
    for key, value in outcome.comparison.candidate.items():
        click.echo(f"{key:>16}: {current.get(key, '-')!s:>8} -> {value}")
    click.echo(f"report: {outcome.report}")
    for objection in outcome.objections:
        click.echo(f"gate: {objection}")
    click.echo("gate: passes" if not outcome.objections else "gate: would refuse")


@maintain.command("promote")
@click.option(
    "--force",
    "force_reason",
    default=None,
    metavar="REASON",
    help="Promote despite the gate; the reason is recorded.",
)
@click.option("--by", default=None, help="Who promotes (default: your user name).")
@click.option("--no-swap", is_flag=True, help="Do not load it into the running server now.")
@click.pass_obj
def maintain_promote(
    obj: tuple[Settings, Path], force_reason: str | None, by: str | None, no_swap: bool
) -> None:
    """Make the evaluated candidate the active model and load it into the running server."""
    from bot.maintain.cycle import promote_candidate
    from bot.maintain.promote import PromotionRefused

    settings, root = obj
    try:
        path, overridden = promote_candidate(
            settings, root, by or _who(), force_reason, not no_swap
        )
    except PromotionRefused as error:
        raise click.ClickException(f"promotion refused: {error}") from error
    for objection in overridden:
        click.echo(f"forced past: {objection}")
    click.echo(f"active model: {path.name}")


@maintain.command("rollback")
@click.option("--no-swap", is_flag=True)
@click.pass_obj
def maintain_rollback(obj: tuple[Settings, Path], no_swap: bool) -> None:
    """Return to the previous model."""
    from bot.maintain.cycle import rollback_model

    settings, _ = obj
    try:
        path = rollback_model(settings, _who(), not no_swap)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"active model: {path.name}")
