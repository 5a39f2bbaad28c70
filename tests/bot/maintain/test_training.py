"""training.py without training: the input hash, model names, NLU parsing, held-out figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import HELDOUT_PATH
from bot.intents import ALL_INTENTS
from bot.maintain.training import (
    MODEL_PREFIX,
    TRAINING_INPUTS,
    Evaluation,
    inputs_hash,
    load_nlu_examples,
    model_path_for,
    training_examples,
)

# --- inputs_hash ----------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tiny project with every training input, and files beside them that are not inputs."""
    files = {
        "config.yml": "pipeline: []\n",
        "domain.yml": "version: '3.1'\n",
        "data/nlu/faq.yml": "nlu: []\n",
        "data/rules/rules.yml": "rules: []\n",
        "bot/nlu/component.py": "X = 1\n",
        "bot/safety/detector.py": "Y = 1\n",
        "data/safety/cues.yml": "cues: []\n",
        "requirements/lock.txt": "rasa==3.6.21\n",
        "requirements/no-deps.txt": "some-wheel==1.0\n",
        # not training inputs:
        "README.md": "readme\n",
        "data/eval/heldout.yml": "nlu: []\n",
        "data/content/answers.yml": "answers: []\n",
        "bot/web/app.py": "Z = 1\n",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_hash_is_sixteen_hex_digits_and_stable(tree):
    digest = inputs_hash(tree)
    assert re.fullmatch(r"[0-9a-f]{16}", digest)
    assert inputs_hash(tree) == digest


@pytest.mark.parametrize(
    "name",
    [
        "config.yml",
        "domain.yml",
        "data/nlu/faq.yml",
        "data/rules/rules.yml",
        "bot/nlu/component.py",
        "bot/safety/detector.py",
        "data/safety/cues.yml",
        "requirements/lock.txt",
        "requirements/no-deps.txt",
    ],
)
def test_changing_a_training_input_changes_the_hash(tree, name):
    before = inputs_hash(tree)
    with (tree / name).open("a") as handle:
        handle.write("# changed\n")
    assert inputs_hash(tree) != before


@pytest.mark.parametrize(
    "name",
    [
        "README.md",
        "data/eval/heldout.yml",
        "data/content/answers.yml",
        "bot/web/app.py",
        "bot/nlu/__pycache__/component.cpython-311.pyc",
        "bot/safety/detector.pyc",
    ],
)
def test_changing_anything_else_keeps_the_hash(tree, name):
    before = inputs_hash(tree)
    path = tree / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write("# changed\n")
    assert inputs_hash(tree) == before


def test_adding_or_renaming_a_training_file_changes_the_hash(tree):
    before = inputs_hash(tree)
    (tree / "data/nlu/faq.yml").rename(tree / "data/nlu/other.yml")
    renamed = inputs_hash(tree)
    assert renamed != before
    (tree / "data/nlu/more.yml").write_text("nlu: []\n")
    assert inputs_hash(tree) not in (before, renamed)


def test_the_same_inputs_elsewhere_give_the_same_hash(tree, tmp_path_factory):
    import shutil

    copy = tmp_path_factory.mktemp("copy") / "project"
    shutil.copytree(tree, copy)
    assert inputs_hash(copy) == inputs_hash(tree)


def test_only_the_given_inputs_count(tree):
    only_config = ("config.yml",)
    before = inputs_hash(tree, only_config)
    (tree / "domain.yml").write_text("changed\n")
    assert inputs_hash(tree, only_config) == before
    assert inputs_hash(tree, only_config) != inputs_hash(tree)


def test_a_missing_training_input_is_an_error_not_a_silent_hash(tree):
    (tree / "requirements/lock.txt").unlink()
    with pytest.raises(FileNotFoundError):
        inputs_hash(tree)


def test_every_training_input_exists_in_the_project():
    from bot.config import PROJECT_ROOT

    missing = [name for name in TRAINING_INPUTS if not (PROJECT_ROOT / name).exists()]
    assert missing == []


# --- model_path_for --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("models_dir", "digest", "expected"),
    [
        (Path("models"), "0123456789abcdef", Path("models/clinic-0123456789abcdef.tar.gz")),
        (Path("/srv/m"), "ffff", Path("/srv/m/clinic-ffff.tar.gz")),
    ],
)
def test_model_path_for(models_dir, digest, expected):
    assert model_path_for(models_dir, digest) == expected
    assert expected.name.startswith(MODEL_PREFIX)


def test_the_model_name_follows_the_inputs(tree, tmp_path):
    first = model_path_for(tmp_path, inputs_hash(tree))
    (tree / "data/nlu/faq.yml").write_text("nlu: [changed]\n")
    assert model_path_for(tmp_path, inputs_hash(tree)) != first


# --- load_nlu_examples / training_examples ------------------------------------------------------

NLU_FILE = """\
version: "3.1"
nlu:
- intent: ask_injection_pain
  examples: |
    - does it hurt
    -   how painful are the needles
    this line is not an example
    - is it sore afterwards
- intent: greet
  examples: |
    - hello
- intent: ask_aftercare
  examples:
  - text: "can i exercise after?"
    metadata:
      source: patient inbox
  - text: " can i wash my hair "
- intent: goodbye
"""


def test_load_nlu_examples_reads_both_formats(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text(NLU_FILE)
    assert load_nlu_examples(path) == [
        ("ask_injection_pain", "does it hurt"),
        ("ask_injection_pain", "how painful are the needles"),
        ("ask_injection_pain", "is it sore afterwards"),
        ("greet", "hello"),
        ("ask_aftercare", "can i exercise after?"),
        ("ask_aftercare", "can i wash my hair"),
    ]


@pytest.mark.parametrize("text", ["", "version: '3.1'\n", "nlu: []\n"])
def test_load_nlu_examples_of_a_file_without_examples(tmp_path, text):
    path = tmp_path / "nlu.yml"
    path.write_text(text)
    assert load_nlu_examples(path) == []


def test_load_nlu_examples_reads_utf8(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_bytes("nlu:\n- intent: other_language\n  examples: |\n    - ¿Duele?\n".encode())
    assert load_nlu_examples(path) == [("other_language", "¿Duele?")]


def test_load_nlu_examples_skips_synonym_and_regex_blocks(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text(
        "nlu:\n"
        "- intent: greet\n  examples: |\n    - hello\n"
        "- synonym: botox\n  examples: |\n    - onabotulinumtoxinA\n"
        "- regex: phone\n  examples: |\n    - \\d{11}\n"
    )
    assert load_nlu_examples(path) == [("greet", "hello")]


def test_training_examples_reads_every_yml_under_data_nlu_in_order(tmp_path):
    nlu = tmp_path / "data" / "nlu"
    nlu.mkdir(parents=True)
    (nlu / "b.yml").write_text("nlu:\n- intent: goodbye\n  examples: |\n    - bye\n")
    (nlu / "a.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n")
    (nlu / "notes.txt").write_text("nlu:\n- intent: thank\n  examples: |\n    - ta\n")
    assert training_examples(tmp_path) == [("greet", "hi"), ("goodbye", "bye")]


def test_the_project_training_data_parses_to_known_intents(project):
    pairs = training_examples(project)
    assert len(pairs) > 500
    assert {intent for intent, _ in pairs} <= ALL_INTENTS
    assert all(text and text == text.strip() for _, text in pairs)
    heldout = load_nlu_examples(project / HELDOUT_PATH)
    assert heldout and {intent for intent, _ in heldout} <= ALL_INTENTS


def test_the_project_training_data_counts_every_example_line(project):
    """Every ``- `` line of every examples block is one pair: none lost, none invented."""
    expected = 0
    for path in sorted((project / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            examples = item.get("examples") or ""
            if isinstance(examples, list):
                expected += len(examples)
            else:
                expected += sum(line.strip().startswith("- ") for line in examples.splitlines())
    assert len(training_examples(project)) == expected


# --- Evaluation --------------------------------------------------------------------------------

URGENT, CLINICAL, FALLBACK = "report_urgent_symptoms", "clinical_question", "nlu_fallback"


def ev(*rows: tuple[str, str], answered_first: list | None = None) -> Evaluation:
    return Evaluation(
        predictions=[(e, p, 0.9, f"message {i}") for i, (e, p) in enumerate(rows)],
        answered_first=answered_first or [],
    )


SAMPLE = ev(
    ("ask_injection_pain", "ask_injection_pain"),
    ("ask_injection_pain", "ask_side_effects"),
    ("ask_side_effects", "ask_side_effects"),
    ("ask_side_effects", FALLBACK),
    (URGENT, URGENT),
    (URGENT, "ask_side_effects"),  # an urgent message answered as an FAQ
    (CLINICAL, CLINICAL),
    (CLINICAL, CLINICAL),
    (CLINICAL, "ask_aftercare"),  # a clinical question answered as an FAQ
    ("greet", "greet"),
)


def test_summary_of_hand_made_predictions():
    assert SAMPLE.summary() == {
        "examples": 10,
        "faq_accuracy": 0.5,  # 2 of the 4 FAQ messages
        "accuracy": 0.6,
        "urgent_recall": 0.5,
        "clinical_recall": 0.6667,
        "safety_to_faq": 2,
        "fallbacks": 1,
    }


@pytest.mark.parametrize(
    ("intent", "recall"),
    [
        ("ask_injection_pain", 0.5),
        ("ask_side_effects", 0.5),
        (URGENT, 0.5),
        (CLINICAL, 2 / 3),
        ("greet", 1.0),
        ("ask_aftercare", 0.0),  # predicted once, never expected
        ("not_an_intent", 0.0),
    ],
)
def test_recall(intent, recall):
    assert SAMPLE.recall(intent) == pytest.approx(recall)


def test_safety_to_faq_and_urgent_missed_list_the_messages():
    assert [(p[0], p[1]) for p in SAMPLE.safety_to_faq] == [
        (URGENT, "ask_side_effects"),
        (CLINICAL, "ask_aftercare"),
    ]
    assert [(p[0], p[1]) for p in SAMPLE.urgent_missed] == [(URGENT, "ask_side_effects")]


def test_a_safety_message_sent_to_fallback_or_handoff_is_not_safety_to_faq():
    evaluation = ev((URGENT, FALLBACK), (URGENT, CLINICAL), (CLINICAL, "request_human"))
    assert evaluation.safety_to_faq == []
    assert len(evaluation.urgent_missed) == 2


def test_confusions_count_mistakes_most_common_first():
    evaluation = ev(
        ("a", "b"), ("a", "b"), ("a", "b"), ("c", "d"), ("c", "d"), ("e", "f"), ("a", "a")
    )
    assert evaluation.confusions() == [(("a", "b"), 3), (("c", "d"), 2), (("e", "f"), 1)]
    assert evaluation.confusions(top=1) == [(("a", "b"), 3)]
    assert ev(("a", "a")).confusions() == []


def test_answer_first_counts_as_a_right_faq_answer():
    """A personal question on an FAQ topic: the answer, then the clinical handoff (correct)."""
    rows = (("ask_side_effects", CLINICAL), ("ask_side_effects", CLINICAL))
    assert ev(*rows).faq_accuracy == 0.0
    assert ev(*rows, answered_first=["ask_side_effects", None]).faq_accuracy == 0.5
    # answered first on another topic is still wrong
    assert ev(*rows, answered_first=["ask_aftercare", "ask_aftercare"]).faq_accuracy == 0.0
    # plain accuracy does not change
    assert ev(*rows, answered_first=["ask_side_effects", None]).accuracy == 0.0


def test_an_empty_evaluation_is_all_zero():
    assert Evaluation().summary() == {
        "examples": 0,
        "faq_accuracy": 0.0,
        "accuracy": 0.0,
        "urgent_recall": 0.0,
        "clinical_recall": 0.0,
        "safety_to_faq": 0,
        "fallbacks": 0,
    }


def test_training_gets_two_encoder_threads_unless_the_operator_chose(monkeypatch):
    from bot.maintain.training import _quiet_env

    monkeypatch.delenv("CLINIC_ENCODER_THREADS", raising=False)
    assert _quiet_env()["CLINIC_ENCODER_THREADS"] == "2"  # batches: two threads halve the time
    monkeypatch.setenv("CLINIC_ENCODER_THREADS", "4")
    assert _quiet_env()["CLINIC_ENCODER_THREADS"] == "4"
