"""merge.py into a scratch copy of the project's data (``cycle.copy_training_inputs``), with
inbox items decided through inbox.py on a real SQLite database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.config import HELDOUT_PATH
from bot.db.models import InboxItem
from bot.db.session import session_scope
from bot.maintain import inbox
from bot.maintain.merge import MERGED_FILE, MergeResult, apply_annotations, merge
from bot.maintain.training import inputs_hash, load_nlu_examples, training_examples
from tests.bot.maintain.conftest import user_event

SEEN = dt.datetime(2026, 2, 14, 8, 0)
NEW_QUESTION = "kindly elucidate the modus operandi of onabotulinumtoxinA"


def add_items(database_url: str, *decisions: tuple[str, str, str | None]) -> dict[str, int]:
    """Inbox items (message, decision, intent) as a maintainer left them; returns their ids."""
    with session_scope(database_url) as session:
        inbox.refresh(
            session,
            [
                inbox.Candidate(m, inbox.text_key(m), None, None, SEEN, SEEN, 1, {"fallback"})
                for m, _, _ in decisions
            ],
        )
        session.flush()
        by_message = {i.message: i for i in session.scalars(select(InboxItem))}
        for message, decision, intent in decisions:
            if decision:
                inbox.decide(session, by_message[message], decision, intent, "maintainer")
        return {m: i.id for m, i in by_message.items()}


def run_merge(database_url: str, root: Path) -> MergeResult:
    with session_scope(database_url) as session:
        return merge(session, root)


def merged_at(database_url: str) -> dict[str, dt.datetime | None]:
    with session_scope(database_url) as session:
        return {i.message: i.merged_at for i in session.scalars(select(InboxItem))}


def test_a_decided_question_is_added_with_its_provenance(database_url, project):
    ids = add_items(database_url, (NEW_QUESTION, "intent", "ask_how_it_works"))
    result = run_merge(database_url, project)
    assert result.added == [("ask_how_it_works", NEW_QUESTION)]
    assert (result.duplicates, result.heldout, result.new_topics, result.discarded) == (
        [],
        [],
        [],
        0,
    )
    text = (project / MERGED_FILE).read_text(encoding="utf-8")
    assert text.startswith("# Patient questions the assistant missed")
    doc = yaml.safe_load(text)
    assert doc["version"] == "3.1"
    (block,) = doc["nlu"]
    assert block["intent"] == "ask_how_it_works"
    (example,) = block["examples"]
    assert example == {
        "text": NEW_QUESTION,
        "metadata": {
            "source": "patient inbox",
            "inbox_id": ids[NEW_QUESTION],
            "first_seen": "2026-02-14",
            "annotated_by": "maintainer",
            "merged_on": dt.date.today().isoformat(),
        },
    }
    assert merged_at(database_url)[NEW_QUESTION] is not None


def test_the_merged_example_is_training_data_and_changes_the_model(database_url, project):
    before_hash, before = inputs_hash(project), training_examples(project)
    heldout_before = (project / HELDOUT_PATH).read_bytes()
    add_items(database_url, (NEW_QUESTION, "intent", "ask_how_it_works"))
    run_merge(database_url, project)
    after = training_examples(project)
    assert len(after) == len(before) + 1
    assert ("ask_how_it_works", NEW_QUESTION) in after
    assert inputs_hash(project) != before_hash  # a new candidate model must be trained
    assert (project / HELDOUT_PATH).read_bytes() == heldout_before


def test_merging_twice_adds_once(database_url, project):
    add_items(database_url, (NEW_QUESTION, "intent", "ask_how_it_works"))
    run_merge(database_url, project)
    written = (project / MERGED_FILE).read_text()
    assert run_merge(database_url, project) == MergeResult()
    assert (project / MERGED_FILE).read_text() == written


def test_a_question_already_in_the_training_data_is_a_duplicate(database_url, project):
    intent, existing = training_examples(project)[0]
    variant = existing.upper() + " ?!"  # same words: same text key
    add_items(database_url, (variant, "intent", intent))
    result = run_merge(database_url, project)
    assert (result.added, result.duplicates) == ([], [variant])
    assert not (project / MERGED_FILE).exists()  # nothing added: nothing written
    assert merged_at(database_url)[variant] is not None  # dealt with: not offered again


def test_a_held_out_question_is_refused_and_stays_unseen(database_url, project):
    heldout = load_nlu_examples(project / HELDOUT_PATH)
    training_keys = {inbox.text_key(t) for _, t in training_examples(project)}
    intent, text = next((i, t) for i, t in heldout if inbox.text_key(t) not in training_keys)
    add_items(
        database_url,
        (text, "intent", intent),
        (NEW_QUESTION, "intent", "ask_how_it_works"),
    )
    result = run_merge(database_url, project)
    assert result.heldout == [text]
    assert result.added == [("ask_how_it_works", NEW_QUESTION)]
    keys_after = {inbox.text_key(t) for _, t in training_examples(project)}
    assert inbox.text_key(text) not in keys_after


def test_a_message_in_another_script_can_be_merged(database_url, project):
    message = "Сколько длится приём у врача?"
    add_items(database_url, (message, "intent", "other_language"))
    result = run_merge(database_url, project)
    assert result.heldout == []
    assert result.added == [("other_language", message)]


def test_new_topics_wait_and_discards_are_counted(database_url, project):
    add_items(
        database_url,
        ("do you do acupuncture for migraine", "new_topic", None),
        ("asdfgh", "discard", None),
        ("lol", "discard", None),
        ("not decided yet", None, None),
    )
    result = run_merge(database_url, project)
    assert result.new_topics == ["do you do acupuncture for migraine"]
    assert result.discarded == 2
    assert result.added == []
    state = merged_at(database_url)
    assert state["do you do acupuncture for migraine"] is None  # needs an intent first
    assert state["not decided yet"] is None
    assert state["asdfgh"] is not None and state["lol"] is not None


def test_an_intent_that_no_longer_exists_is_left_alone(database_url, project):
    add_items(database_url, (NEW_QUESTION, "intent", "ask_how_it_works"))
    with session_scope(database_url) as session:
        session.scalars(select(InboxItem)).one().decided_intent = "ask_retired_topic"
    assert run_merge(database_url, project) == MergeResult()
    assert merged_at(database_url)[NEW_QUESTION] is None


def test_merge_appends_to_an_existing_file_with_blocks_sorted(database_url, project):
    target = project / MERGED_FILE
    target.write_text(
        yaml.safe_dump(
            {
                "version": "3.1",
                "nlu": [
                    {
                        "intent": "ask_side_effects",
                        "examples": [{"text": "will my eyebrows droop forever"}],
                    }
                ],
            }
        )
    )
    add_items(
        database_url,
        ("will i look frozen in the face after", "intent", "ask_side_effects"),
        (NEW_QUESTION, "intent", "ask_how_it_works"),
        ("will my eyebrows droop forever", "intent", "ask_side_effects"),  # already there
    )
    result = run_merge(database_url, project)
    assert result.duplicates == ["will my eyebrows droop forever"]
    doc = yaml.safe_load(target.read_text())
    assert [b["intent"] for b in doc["nlu"]] == ["ask_how_it_works", "ask_side_effects"]
    assert [e["text"] for e in doc["nlu"][1]["examples"]] == [
        "will my eyebrows droop forever",
        "will i look frozen in the face after",
    ]


def test_personal_data_never_reaches_the_training_data(database_url, project, save_conversation):
    """Patient message -> inbox (redacted) -> decision -> merged training example."""
    save_conversation(
        [
            user_event(
                "hi my name is Zara Quinn, email zara.q@example.com, can botox stop my aura",
                intent="nlu_fallback",
                confidence=0.3,
                ranking=[("nlu_fallback", 0.3), ("ask_how_it_works", 0.25)],
            )
        ]
    )
    with session_scope(database_url) as session:
        assert inbox.refresh(session, inbox.collect(session)) == 1
    with session_scope(database_url) as session:
        item = session.scalars(select(InboxItem)).one()
        inbox.decide(session, item, "intent", item.suggested_intent, "maintainer")
    result = run_merge(database_url, project)
    assert [intent for intent, _ in result.added] == ["ask_how_it_works"]
    written = (project / MERGED_FILE).read_text()
    for personal in ("Zara", "Quinn", "zara.q@example.com", "example.com"):
        assert personal not in written
    assert "<name>" in written and "<email>" in written
    assert "can botox stop my aura" in written


# --- apply_annotations ---------------------------------------------------------------------------


def test_apply_annotations_copies_decisions(database_url, tmp_path):
    ids = add_items(
        database_url,
        ("one", None, None),
        ("two", None, None),
        ("three", None, None),
        ("four", None, None),
        ("merged already", "discard", None),
    )
    with session_scope(database_url) as session:
        session.get(InboxItem, ids["merged already"]).merged_at = SEEN
    annotations = tmp_path / "inbox.yml"
    annotations.write_text(
        yaml.safe_dump(
            {
                "items": [
                    {"id": ids["one"], "intent": "ask_aftercare", "decision": None},
                    {"id": ids["two"], "decision": "new_topic", "intent": None},
                    {"id": ids["three"], "decision": "discard"},
                    {"id": ids["four"], "decision": None, "intent": None},  # not annotated
                    {"id": ids["merged already"], "intent": "ask_aftercare"},
                    {"id": 999_999, "intent": "ask_aftercare"},  # no such item
                ]
            }
        )
    )
    with session_scope(database_url) as session:
        assert apply_annotations(session, annotations, "annotator") == 3
    with session_scope(database_url) as session:
        state = {
            i.message: (i.decision, i.decided_intent, i.decided_by)
            for i in session.scalars(select(InboxItem))
        }
    assert state["one"] == ("intent", "ask_aftercare", "annotator")
    assert state["two"] == ("new_topic", None, "annotator")
    assert state["three"] == ("discard", None, "annotator")
    assert state["four"] == (None, None, None)
    assert state["merged already"] == ("discard", None, "maintainer")  # untouched


def test_apply_annotations_refuses_an_unknown_intent(database_url, tmp_path):
    ids = add_items(database_url, ("one", None, None))
    annotations = tmp_path / "inbox.yml"
    annotations.write_text(yaml.safe_dump({"items": [{"id": ids["one"], "intent": "ask_weather"}]}))
    with session_scope(database_url) as session:
        with pytest.raises(ValueError, match="unknown intent"):
            apply_annotations(session, annotations, "annotator")


def test_apply_annotations_of_an_empty_file(database_url, tmp_path):
    annotations = tmp_path / "inbox.yml"
    annotations.write_text("")
    with session_scope(database_url) as session:
        assert apply_annotations(session, annotations, "annotator") == 0
