"""The vetted content: every quote verbatim, one approved answer per FAQ intent, nothing the
guide does not say, and the database sync keeping versions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil

import pytest
import spacy
import yaml

from bot.content.answers import (
    Guide,
    approved_answer,
    check_answer_specs,
    load_answer_specs,
    sync_answers,
)
from bot.content.messages import TYPED_PLACEHOLDERS, Messages, WebTexts
from bot.db.models import Answer
from bot.db.session import session_scope
from bot.intents import ADMIN_INTENTS, FAQ_INTENTS
from tests.helpers import CONTENT_DIR

GUIDE = Guide.load(CONTENT_DIR / "guide.txt")
SPECS = load_answer_specs(CONTENT_DIR / "answers.yml")
APPROVED = [s for s in SPECS if s.status == "approved"]

# Words an answer may use that are not in the guide: pronouns, linking and framing words that
# state no fact. Anything medical must come from the guide.
FRAMING_WORDS = {
    "give",  # "the injections are given", "we give you a plan"
    "mean",  # "chronic migraine, meaning 15 or more headache days"
    "personalise",  # UK spelling of the guide's "personalized"
}
# Everyday words of the plain-language answers, reviewed as a list (data/content/plain_words.yml).
PLAIN_WORDS = set(
    yaml.safe_load((CONTENT_DIR / "plain_words.yml").read_text(encoding="utf-8"))["words"]
)


def _lemmas(text: str) -> set[str]:
    nlp = _nlp()
    return {
        t.lemma_.lower()
        for t in nlp(text.lower().replace("\u2019", "'"))
        if t.is_alpha and not t.is_stop
    }


_NLP = None


def _nlp():
    global _NLP
    if _NLP is None:
        _NLP = spacy.blank("en")
        _NLP.add_pipe("lemmatizer", config={"mode": "lookup"})
        _NLP.initialize()
    return _NLP


def test_guide_copy_is_in_the_project():
    assert "Botox for Chronic Migraine" in GUIDE.text
    assert len(GUIDE.text) > 4000


def test_content_check_passes():
    assert check_answer_specs(SPECS, GUIDE) == []


@pytest.mark.parametrize("spec", APPROVED, ids=lambda s: s.answer_id)
def test_every_quote_is_verbatim_in_the_guide(spec):
    assert spec.quotes
    for quote in spec.quotes:
        assert GUIDE.contains(quote), quote


def test_every_faq_intent_has_exactly_one_approved_answer():
    counts = {intent: 0 for intent in FAQ_INTENTS}
    for spec in APPROVED:
        counts[spec.intent] += 1
    assert counts == {intent: 1 for intent in FAQ_INTENTS}


def test_admin_intents_have_no_invented_answer():
    assert not [s for s in SPECS if s.intent in ADMIN_INTENTS]


@pytest.mark.parametrize("spec", APPROVED, ids=lambda s: s.answer_id)
def test_answer_uses_only_words_of_the_guide_and_reviewed_everyday_words(spec):
    """A new content word (a drug, a number of days, a body part) would be a new fact; plain
    everyday words are allowed only from the reviewed list."""
    unknown = _lemmas(spec.text) - _lemmas(GUIDE.text) - FRAMING_WORDS - PLAIN_WORDS
    assert not unknown, f"{spec.answer_id} uses words the guide lacks: {sorted(unknown)}"


def test_the_everyday_words_are_all_used_and_none_is_in_the_guide():
    """The reviewed list holds only what the answers need: nothing stale, nothing redundant."""
    used = set().union(*(_lemmas(s.text) for s in APPROVED))
    assert used >= PLAIN_WORDS, sorted(PLAIN_WORDS - used)
    assert not PLAIN_WORDS & _lemmas(GUIDE.text)


@pytest.mark.parametrize("spec", APPROVED, ids=lambda s: s.answer_id)
def test_answer_numbers_come_from_its_own_quotes(spec):
    quoted = " ".join(spec.quotes)
    for number in re.findall(r"\d+", spec.text):
        assert number in quoted, f"{spec.answer_id}: {number} is not in its quotes"


def test_check_catches_a_quote_that_is_not_verbatim():
    bad = dataclasses.replace(APPROVED[0], quotes=("Botox cures migraine in one session.",))
    problems = check_answer_specs([bad, *APPROVED[1:]], GUIDE)
    assert any("not verbatim" in p for p in problems)


def test_check_catches_a_missing_and_a_duplicate_answer():
    duplicate = dataclasses.replace(APPROVED[1], answer_id="copy")
    problems = check_answer_specs([duplicate, *APPROVED[1:]], GUIDE)
    assert any(f"intent {APPROVED[0].intent} has 0" in p for p in problems)
    assert any(f"intent {APPROVED[1].intent} has 2" in p for p in problems)


def test_check_catches_an_answer_without_a_source():
    sourceless = dataclasses.replace(APPROVED[0], quotes=())
    assert any("no guide quote" in p for p in check_answer_specs([sourceless], GUIDE))


def test_invented_word_is_caught_by_the_vocabulary_check():
    invented = "Botox is also proven to cure epilepsy within 3 days."
    assert {"epilepsy", "prove"} & _lemmas(invented) - _lemmas(GUIDE.text)


def test_sync_loads_answers_and_keeps_versions(database_url):
    with session_scope(database_url) as session:
        assert sync_answers(session, SPECS, GUIDE) == len(SPECS)
    with session_scope(database_url) as session:
        assert sync_answers(session, SPECS, GUIDE) == 0  # idempotent
        answer = approved_answer(session, "ask_session_length")
        assert answer.answer_id == "session-length"
        assert "15 minutes" in answer.text
        assert answer.guide_sha256 == GUIDE.sha256

    old = next(s for s in APPROVED if s.intent == "ask_session_length")
    new_version = dataclasses.replace(old, version=old.version + 1, text=old.text + " ")
    retired = dataclasses.replace(old, status="superseded")
    others = [s for s in SPECS if s is not old]
    with session_scope(database_url) as session:
        sync_answers(session, [*others, retired, new_version], GUIDE)
    with session_scope(database_url) as session:
        assert approved_answer(session, "ask_session_length").version == old.version + 1
        versions = sum(1 for s in SPECS if s.answer_id == "session-length")
        assert session.query(Answer).filter_by(answer_id="session-length").count() == versions + 1


def test_sync_refuses_to_change_a_published_version_in_place(database_url):
    with session_scope(database_url) as session:
        sync_answers(session, SPECS, GUIDE)
    edited = [
        dataclasses.replace(s, text=s.text + " Edited.") if s.answer_id == "aftercare" else s
        for s in SPECS
    ]
    with pytest.raises(ValueError, match="aftercare v"), session_scope(database_url) as session:
        sync_answers(session, edited, GUIDE)
    with session_scope(database_url) as session:
        assert not approved_answer(session, "ask_aftercare").text.endswith("Edited.")


def test_sync_refuses_content_that_fails_the_check(database_url):
    bad = dataclasses.replace(APPROVED[0], quotes=("Not in the guide at all.",))
    with pytest.raises(ValueError, match="not verbatim"), session_scope(database_url) as session:
        sync_answers(session, [bad, *APPROVED[1:]], GUIDE)
    with session_scope(database_url) as session:
        assert session.query(Answer).count() == 0


def test_messages_fill_in_every_clinic_fact():
    messages = Messages.load(CONTENT_DIR)
    for key in messages.texts:
        typed = {name: "X" for name in TYPED_PLACEHOLDERS.get(key, ())}  # filled in when sent
        text = messages.text(key, **typed)
        assert "{" not in text and "}" not in text, key
    assert messages.text("contact_ask_consent", contact="+1 212-555-2368").count("+1 212") == 1
    closed = messages.closed_note(dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.timezone.utc))
    assert closed and "{" not in closed and messages.clinic["emergency_number"] in closed
    assert messages.clinic["emergency_number"] in messages.text("urgent")
    assert messages.clinic["phone"] in messages.text("handoff_clinical")
    assert set(messages.placeholders) <= set(messages.clinic) | {"opening_hours"}


def test_every_button_points_at_a_known_intent():
    from bot.intents import ALL_INTENTS

    messages = Messages.load(CONTENT_DIR)
    for key in messages.buttons:
        for button in messages.button_list(key):
            intent, _, entities = button["payload"].lstrip("/").partition("{")
            assert intent in ALL_INTENTS
            assert not entities or json.loads("{" + entities), button
    payload = '/choose_contact{"contact_method":"phone"}'
    assert {"title": "Call me back", "payload": payload} in messages.button_list("contact_choice")
    assert messages.payload_titles()[payload[1:]] == "Call me back"
    assert set(messages.suggestions) == FAQ_INTENTS | ADMIN_INTENTS


def test_messages_say_nothing_about_the_treatment():
    """Medical statements live only in answers.yml; messages may not mention the drug's effects."""
    messages = Messages.load(CONTENT_DIR)
    medical = re.compile(r"\b(inject|dose|units?|side effect|weeks?|cure|safe)\w*", re.I)
    for key, text in messages.texts.items():
        assert not medical.search(text), f"{key}: {text}"


def _intents_answered_by_rules() -> set[str]:
    """Intents whose rule runs action_answer_faq: each must have a vetted answer."""
    import yaml

    from bot.config import PROJECT_ROOT

    answered = set()
    for path in (PROJECT_ROOT / "data" / "rules").glob("*.yml"):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            steps = rule.get("steps", [])
            for step, following in zip(steps, steps[1:], strict=False):
                if "intent" in step and following.get("action") == "action_answer_faq":
                    answered.add(step["intent"])
    return answered


def test_every_topic_answered_by_a_rule_has_one_approved_answer():
    """A new topic with a rule but no vetted answer (or not listed in FAQ_INTENTS) fails here."""
    answered = _intents_answered_by_rules()
    assert answered == set(FAQ_INTENTS)
    approved = {s.intent for s in APPROVED}
    assert answered <= approved


def test_every_safety_message_is_translated_with_the_same_placeholders():
    import re
    import string

    from bot.content.messages import Messages
    from bot.safety.language import SUPPORTED

    messages = Messages.load(CONTENT_DIR)
    assert set(messages.translations) == {"language_notice", "urgent", "crisis", "poison"}
    english = {"language_notice": "language_notice", "urgent": "urgent", "crisis": "crisis",
               "poison": "poison"}  # fmt: skip
    for key, by_language in messages.translations.items():
        assert set(by_language) == set(SUPPORTED), key
        wanted = {f for _, f, _, _ in string.Formatter().parse(messages.texts[english[key]]) if f}
        for language, text in by_language.items():
            found = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert found == wanted, (key, language)
            assert not re.search(r"PLACEHOLDER", text)
        # The numbers a frightened patient needs are in every language.
        for language in by_language:
            assert messages.clinic["emergency_number"] in messages.translated(key, language)


def test_crisis_and_poison_numbers_are_clinic_facts():
    from bot.content.messages import Messages

    messages = Messages.load(CONTENT_DIR)
    assert messages.clinic["crisis_line"] in messages.text("crisis")
    assert messages.clinic["poison_control"] in messages.text("poison")
    assert {"crisis_line", "poison_control"} <= set(messages.placeholders)


# --- the patient page (widget.yml): passages that are not vetted answers rest on guide quotes ---

PAGE = WebTexts.load(CONTENT_DIR)
PASSAGES = [p for p in PAGE.paragraphs() if p.kind == "passage"]
# Words a page passage may add to the guide's: it speaks about the page itself.
PAGE_FRAMING_WORDS = FRAMING_WORDS | {"page", "explain"}


@pytest.mark.parametrize("passage", PASSAGES, ids=lambda p: p.text[:40])
def test_every_page_quote_is_verbatim_in_the_guide(passage):
    assert passage.quotes and passage.section
    for quote in passage.quotes:
        assert GUIDE.contains(quote), quote


@pytest.mark.parametrize("passage", PASSAGES, ids=lambda p: p.text[:40])
def test_page_passage_uses_only_words_and_numbers_of_its_guide_quotes(passage):
    unknown = _lemmas(passage.text) - _lemmas(GUIDE.text) - PAGE_FRAMING_WORDS
    assert not unknown, f"{passage.text[:40]!r} uses words the guide lacks: {sorted(unknown)}"
    for number in re.findall(r"\d+", passage.text):
        assert number in " ".join(passage.quotes)


def test_page_answers_are_the_approved_versions():
    approved = {(s.answer_id, s.version, s.text) for s in APPROVED}
    shown = [p for p in PAGE.paragraphs() if p.kind == "answer"]
    assert shown and {(p.answer_id, p.version, p.text) for p in shown} <= approved


def _content_copy(tmp_path, old: str, new: str):
    shutil.copytree(CONTENT_DIR, tmp_path / "content")
    path = tmp_path / "content" / "widget.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path / "content"


def test_page_check_catches_a_quote_that_is_not_verbatim(tmp_path):
    content = _content_copy(
        tmp_path, "- most people describe the sensation", "- everybody describes the sensation"
    )
    with pytest.raises(ValueError, match="quote not verbatim in guide"):
        WebTexts.load(content)


def test_page_check_catches_an_answer_that_has_no_approved_version(tmp_path):
    content = _content_copy(tmp_path, "- answer: serious-risks", "- answer: serious-risks-v2")
    with pytest.raises(ValueError, match="no approved answer 'serious-risks-v2'"):
        WebTexts.load(content)


def test_page_check_catches_a_passage_without_quotes(tmp_path):
    content = _content_copy(
        tmp_path,
        "      quotes:\n      - We are here to help you every step of the way\n",
        "",
    )
    with pytest.raises(ValueError, match="needs its text, guide quotes and section"):
        WebTexts.load(content)


def test_the_answer_source_names_the_guide_by_its_own_title():
    title = GUIDE.text.splitlines()[0].strip()
    assert Messages.load(CONTENT_DIR).text("source_document").startswith(title)
