"""The red-flag specification: its notation, its files and their review state."""

from __future__ import annotations

import pytest

from bot.safety.spec import SAFETY_DIR, compile_pattern, compile_phrase, fold, load_spec

MACROS = {"unable": "unable|barely"}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("swallow", [{"LOWER": "swallow"}]),
        ("swallow*", [{"LOWER": {"REGEX": "(?:^swallow)"}}]),
        ("face|lips", [{"LOWER": {"IN": ["face", "lips"]}}]),
        ("?very sore", [{"LOWER": "very", "OP": "?"}, {"LOWER": "sore"}]),
        ("#", [{"LIKE_NUM": True}]),
        ("\\?", [{"LOWER": "?"}]),
        ("@unable", [{"LOWER": {"IN": ["unable", "barely"]}}]),
        ("Respiración", [{"LOWER": "respiracion"}]),  # folded like the message
    ],
)
def test_notation_compiles_to_matcher_patterns(text, pattern):
    assert compile_phrase(text, MACROS) == pattern


def test_a_gap_is_four_optional_words_that_never_cross_punctuation():
    gap = compile_phrase("a ... b", {})[1:-1]
    assert gap == [{"OP": "?", "IS_PUNCT": False}] * 4


def test_requirements_after_an_ampersand_are_alternatives():
    main, requirements = compile_pattern("stiff ... neck & fever*, burning up", {})
    assert main[0] == {"LOWER": "stiff"}
    assert len(requirements) == 1 and len(requirements[0]) == 2


@pytest.mark.parametrize("bad", ["...", "?maybe", "@nothing"])
def test_patterns_that_match_nothing_in_particular_are_refused(bad):
    with pytest.raises(ValueError):
        compile_phrase(bad, {})


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("I can’t swallow", "i unable swallow"),
        ("couldn't breathe", "unable breathe"),
        ("won't open", "unable open"),
        ("NO PUEDO TRAGAR", "no puedo tragar"),
        ("Schlucken fällt schwer", "schlucken fallt schwer"),
    ],
)
def test_fold_lowercases_removes_accents_and_unifies_inability(raw, folded):
    assert fold(raw) == folded


def test_every_category_has_a_reply_a_description_and_examples():
    spec = load_spec(SAFETY_DIR)
    assert len(spec.categories) == 12
    for category in spec.categories.values():
        assert category.reply in {"urgent", "crisis", "poison"}
        assert category.description and category.must_fire and category.must_not_fire
        assert "en" in category.patterns and "es" in category.patterns, category.id
    assert spec.categories["suicide_self_harm"].reply == "crisis"
    assert spec.categories["overdose_poisoning"].reply == "poison"
    assert spec.substrings, "Chinese and Arabic phrases are found inside words"
    assert {r.name for r in spec.clinical} >= {"own medicines", "own symptom"}


def test_unsigned_lists_every_placeholder_review():
    unsigned = load_spec(SAFETY_DIR).unsigned()
    assert set(unsigned) >= {"stroke_signs", "cues", "clinical"}
