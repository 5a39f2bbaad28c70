"""The anchored Matcher finds exactly what one spaCy Matcher with every pattern finds."""

from __future__ import annotations

import pytest
from spacy.matcher import Matcher

from bot.safety import SafetyDetector
from bot.safety.anchored_matcher import AnchoredMatcher, anchor_of
from bot.safety.evaluation import development_sets, load_set
from bot.safety.spec import compile_pattern, load_spec


@pytest.fixture(scope="module")
def detector() -> SafetyDetector:
    return SafetyDetector()


@pytest.fixture(scope="module")
def plain_matcher(detector: SafetyDetector) -> Matcher:
    """The red-flag patterns in one ordinary spaCy Matcher, as before."""
    matcher = Matcher(detector.nlp.vocab)
    for category in detector.spec.categories.values():
        for language, patterns in category.patterns.items():
            for index, text in enumerate(patterns):
                main, _ = compile_pattern(text, detector.spec.cues.macros)
                matcher.add(f"{category.id}|{language}|{index}", [main])
    return matcher


def _development_texts() -> list[str]:
    texts = []
    for path in development_sets():
        texts += [str(item["text"]) for item in load_set(path)]
    spec = load_spec()
    for category in spec.categories.values():
        texts += category.must_fire + category.must_not_fire
    return texts


def test_same_matches_as_one_matcher_on_every_development_message(detector, plain_matcher):
    texts = _development_texts()
    assert len(texts) > 4000
    differ = []
    for text in texts:
        doc = detector.parse(text)
        if sorted(detector._urgent(doc)) != sorted(plain_matcher(doc)):
            differ.append(text)
    assert differ == []


def test_an_ordinary_question_tries_few_groups(detector):
    doc = detector.parse("How long does the appointment take, and where do I park?")
    assert len(detector._urgent.candidates(doc)) < 10
    assert len(detector._urgent) > 1000


@pytest.mark.parametrize(
    ("token", "anchor"),
    [
        ({"LOWER": "stuck"}, ({"stuck"}, set(), set())),
        ({"LOWER": {"IN": ["face", "lips"]}}, ({"face", "lips"}, set(), set())),
        ({"LOWER": {"REGEX": "(?:^swallow)"}}, (set(), {"swallow"}, set())),
        ({"LOWER": {"REGEX": "(?:^swallow|^choke$)"}}, ({"choke"}, {"swallow"}, set())),
        ({"LOWER": {"REGEX": "(?:呼吸)"}}, (set(), set(), {"呼吸"})),
        ({"LOWER": {"REGEX": "(?:^can\\'t$)"}}, ({"can't"}, set(), set())),
        ({"LOWER": {"REGEX": "(?:^\\d+$)"}}, None),  # a number is no word
        ({"LOWER": "stuck", "OP": "?"}, None),  # optional: not required
        ({"OP": "?", "IS_PUNCT": False}, None),  # the "..." gap
        ({"LIKE_NUM": True}, None),
    ],
)
def test_anchor_of_a_token_pattern(token, anchor):
    found = anchor_of(token)
    if anchor is None:
        assert found is None
    else:
        assert found == tuple(frozenset(part) for part in anchor)


def test_patterns_without_an_anchor_are_always_tried(detector):
    matcher = AnchoredMatcher(detector.nlp.vocab)
    matcher.add("number then weeks", [[{"LIKE_NUM": True}, {"LOWER": {"REGEX": "(?:^\\d+$)"}}]])
    matcher.add("stuck", [[{"LOWER": "stuck"}]])
    doc = detector.parse("3 4 weeks and nothing is stuck")
    found = {detector.nlp.vocab.strings[m] for m, _, _ in matcher(doc)}
    assert found == {"number then weeks", "stuck"}
    assert [s.label_ for s in matcher(doc, as_spans=True)] == ["number then weeks", "stuck"]
    assert matcher(detector.parse("nothing here")) == []


def test_substrings_looked_up_by_first_character_are_those_found_by_searching_all(detector):
    texts = _development_texts()
    assert any(detector._substrings_in(detector.parse(t).text) for t in texts)
    for text in texts:
        folded = detector.parse(text).text
        every = [pair for pair in detector.spec.substrings if folded.find(pair[1]) >= 0]
        assert [p for p in detector._substrings_in(folded) if folded.find(p[1]) >= 0] == every
