"""cycle.py, the maintainer commands' steps, without training or a running Rasa: the scratch
copy, collect -> annotate -> merge through the database, and promote/rollback on recorded
figures (a model file is only needed by the server, which is not started here)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.db.models import InboxItem, ModelVersion
from bot.db.session import session_scope
from bot.maintain import cycle, inbox
from bot.maintain.merge import MERGED_FILE
from bot.maintain.promote import PromotionRefused, record_candidate
from bot.maintain.training import TRAINING_INPUTS, inputs_hash, model_path_for
from tests.bot.maintain.conftest import user_event

# --- copy_training_inputs ---------------------------------------------------------------------


@pytest.fixture
def small_source(tmp_path: Path) -> Path:
    """Every training input and scratch extra, tiny, plus what must not be copied."""
    source = tmp_path / "source"
    for name in TRAINING_INPUTS + cycle.SCRATCH_EXTRAS:
        path = source / name
        if "." in Path(name).name:  # a file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{name}\n")
        else:
            (path / "sub").mkdir(parents=True)
            (path / "sub" / "inner.yml").write_text(f"{name}/inner\n")
            (path / "__pycache__").mkdir()
            (path / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (source / "README.md").write_text("not copied\n")
    (source / "var").mkdir()
    (source / "var" / "clinic.db").write_text("not copied\n")
    return source


def test_copy_training_inputs_copies_exactly_the_inputs_and_extras(small_source, tmp_path):
    target = cycle.copy_training_inputs(tmp_path / "scratch", small_source)
    assert target == tmp_path / "scratch"
    copied = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    expected = {
        p.relative_to(small_source).as_posix()
        for name in TRAINING_INPUTS + cycle.SCRATCH_EXTRAS
        for p in [small_source / name, *(small_source / name).rglob("*")]
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert copied == expected
    assert "README.md" not in copied and "var/clinic.db" not in copied
    assert (target / "data/nlu/sub/inner.yml").read_text() == "data/nlu/inner\n"


def test_the_copy_has_the_same_input_hash_so_the_same_model(small_source, tmp_path):
    target = cycle.copy_training_inputs(tmp_path / "scratch", small_source)
    assert inputs_hash(target) == inputs_hash(small_source)
    (target / "data/nlu/sub/inner.yml").write_text("changed\n")
    assert inputs_hash(target) != inputs_hash(small_source)  # the source is untouched


def test_a_copy_of_the_project_hashes_like_its_source(project, project_source):
    assert inputs_hash(project) == inputs_hash(project_source)
    assert (project / "endpoints.yml").exists() and (project / "data/eval/heldout.yml").exists()


def test_copying_into_an_existing_copy_fails_rather_than_mixing(small_source, tmp_path):
    cycle.copy_training_inputs(tmp_path / "scratch", small_source)
    with pytest.raises(FileExistsError):
        cycle.copy_training_inputs(tmp_path / "scratch", small_source)


def test_models_dir(tmp_path):
    assert cycle.models_dir(tmp_path) == tmp_path / "models"


# --- collect_inbox and merge_annotations --------------------------------------------------------


def test_collect_then_annotate_then_merge(settings, project, save_conversation):
    question = "kindly elucidate the modus operandi of onabotulinumtoxinA"
    fallback = dict(intent="nlu_fallback", confidence=0.3, ranking=[])
    save_conversation([user_event(question, **fallback)])
    save_conversation([user_event("my name is Zara Quinn and i want a callback", **fallback)])
    out = settings.var_dir / "inbox.yml"

    assert cycle.collect_inbox(settings, out, progress=False) == (2, 2)
    assert cycle.collect_inbox(settings, out, progress=False) == (0, 2)  # nothing new
    assert "Zara" not in out.read_text()

    annotation = yaml.safe_load(out.read_text())
    for item in annotation["items"]:
        if item["message"] == question:
            item["intent"] = "ask_how_it_works"
        else:
            item["decision"] = "discard"
    out.write_text(yaml.safe_dump(annotation))

    result = cycle.merge_annotations(settings, project, out, "maintainer")
    assert result.added == [("ask_how_it_works", question)]
    assert result.discarded == 1
    assert question in (project / MERGED_FILE).read_text()
    # decisions made on the console: no file
    assert cycle.merge_annotations(settings, project, None, "maintainer").added == []
    # merged items leave the annotation file
    assert cycle.collect_inbox(settings, out, progress=False) == (0, 0)


def test_merge_annotations_without_a_file_uses_the_decisions_in_the_database(settings, project):
    message = "is the clinic open on bank holidays"
    seen = dt.datetime(2026, 1, 5)
    with session_scope(settings.database_url) as session:
        inbox.refresh(
            session,
            [inbox.Candidate(message, inbox.text_key(message), None, None, seen, seen, 1, set())],
        )
        session.flush()
        item = session.scalars(select(InboxItem)).one()
        inbox.decide(session, item, "intent", "book_appointment", "console-user")
    result = cycle.merge_annotations(settings, project, None, "ignored")
    assert result.added == [("book_appointment", message)]
    doc = yaml.safe_load((project / MERGED_FILE).read_text())
    assert doc["nlu"][0]["examples"][0]["metadata"]["annotated_by"] == "console-user"


# --- promote_candidate and rollback_model ------------------------------------------------------

FIGURES = {
    "faq_accuracy": 0.94,
    "accuracy": 0.9,
    "urgent_recall": 1.0,
    "clinical_recall": 0.95,
    "safety_to_faq": 0,
}


def record(settings, root: Path, figures: dict | None = FIGURES) -> Path:
    """What ``evaluate_candidate`` records for the model of ``root``'s current data."""
    path = model_path_for(cycle.models_dir(root), inputs_hash(root))
    metrics = {"heldout": figures, "cv": None} if figures is not None else {"cv": None}
    with session_scope(settings.database_url) as session:
        record_candidate(session, path, inputs_hash(root), metrics)
    return path


def change_data(root: Path) -> None:
    with (root / "data/nlu/conversation.yml").open("a") as handle:
        handle.write("# a new candidate\n")


def statuses(settings) -> dict[str, str]:
    with session_scope(settings.database_url) as session:
        return {v.data_hash: v.status for v in session.scalars(select(ModelVersion))}


def test_promote_refuses_a_candidate_that_was_not_evaluated(settings, project):
    with pytest.raises(PromotionRefused, match="evaluate the candidate first"):
        cycle.promote_candidate(settings, project, "maintainer", swap=False)
    record(settings, project, figures=None)  # trained and recorded, but no held-out figures
    with pytest.raises(PromotionRefused, match="evaluate the candidate first"):
        cycle.promote_candidate(settings, project, "maintainer", swap=False)


def test_promote_then_refuse_then_force_then_rollback(settings, project):
    first = record(settings, project)
    assert cycle.promote_candidate(settings, project, "maintainer", swap=False) == (first, [])
    first_hash = inputs_hash(project)

    change_data(project)
    worse = record(settings, project, {**FIGURES, "urgent_recall": 0.97})
    worse_hash = inputs_hash(project)
    with pytest.raises(PromotionRefused, match="urgent_recall"):
        cycle.promote_candidate(settings, project, "maintainer", swap=False)
    # the refusal is on record even though the command failed
    assert statuses(settings) == {first_hash: "active", worse_hash: "refused"}

    path, overridden = cycle.promote_candidate(
        settings, project, "lead", force_reason="recorded override", swap=False
    )
    assert path == worse and overridden == ["urgent_recall drops from 1.000 to 0.970"]
    assert statuses(settings) == {first_hash: "retired", worse_hash: "active"}

    assert cycle.rollback_model(settings, "on-call", swap=False) == first
    assert statuses(settings) == {first_hash: "active", worse_hash: "retired"}


def test_rollback_with_nothing_to_return_to(settings, project):
    record(settings, project)
    cycle.promote_candidate(settings, project, "maintainer", swap=False)
    with pytest.raises(LookupError):
        cycle.rollback_model(settings, "on-call", swap=False)


def test_promote_loads_the_model_into_the_configured_rasa_with_its_token(
    settings, project, rasa_api, monkeypatch
):
    url, received, _ = rasa_api
    monkeypatch.setenv("RASA_AUTH_TOKEN", "the-token")
    settings = dataclasses.replace(settings, rasa_url=url)
    path = record(settings, project)
    cycle.promote_candidate(settings, project, "maintainer")
    assert received == [("PUT", "/model?token=the-token", {"model_file": str(path.resolve())})]


def test_a_refused_swap_leaves_the_candidate_unpromoted(settings, project, rasa_api, monkeypatch):
    url, _, reply = rasa_api
    reply.update(status=500, body=b"boom")
    monkeypatch.setenv("RASA_AUTH_TOKEN", "the-token")
    settings = dataclasses.replace(settings, rasa_url=url)
    record(settings, project)
    with pytest.raises(RuntimeError, match="HTTP 500"):
        cycle.promote_candidate(settings, project, "maintainer")
    assert list(statuses(settings).values()) == ["candidate"]
