"""inbox.py on a real SQLite database: patient messages stored by Rasa's own tracker store,
escalations written by the bot's code, inbox items in the bot's table."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlalchemy import select

from bot.cases.escalations import EscalationRequest, request_for_latest_message, write_escalation
from bot.db.models import InboxItem
from bot.db.session import session_scope
from bot.maintain import inbox
from bot.maintain.inbox import Candidate, collect, decide, export, refresh, text_key
from tests.bot.maintain.conftest import DAY, user_event

# --- text_key --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("Does it HURT?", "does it hurt"),
        ("  does   it\thurt\n", "does it hurt"),
        ("does it hurt?!?", "does it hurt"),
        ("can't drive", "can t drive"),
        ("my name is <name>, call <phone>", "my name is <name> call <phone>"),
        ("12 weeks / 155 units", "12 weeks 155 units"),
        ("", ""),
    ],
)
def test_text_key(message, key):
    assert text_key(message) == key


def test_text_key_is_at_most_300_characters():
    assert len(text_key("word " * 200)) == 300


def test_text_key_joins_what_only_case_and_punctuation_separate():
    assert text_key("Is botox a cure???") == text_key("is Botox a cure")
    assert text_key("is botox a cure") != text_key("is botox a cure for me")


# --- collect -------------------------------------------------------------------------------------


def collected(database_url: str) -> list[Candidate]:
    with session_scope(database_url) as session:
        return collect(session)


def by_message(candidates: list[Candidate]) -> dict[str, Candidate]:
    return {c.message: c for c in candidates}


def test_collect_without_a_tracker_store_is_empty(database_url):
    assert collected(database_url) == []


@pytest.mark.parametrize(
    ("event", "sources"),
    [
        # Rasa's fallback carries the threshold (0.3) as its confidence: below 0.5 too
        (dict(intent="nlu_fallback", confidence=0.3, ranking=[]), {"fallback", "low_confidence"}),
        (
            dict(intent="nlu_fallback", confidence=0.7, ranking=[("nlu_fallback", 0.7)]),
            {"fallback"},
        ),
        (dict(intent="ask_aftercare", confidence=0.45), {"low_confidence"}),
        (
            dict(
                intent="ask_aftercare",
                confidence=0.52,
                ranking=[("ask_aftercare", 0.52), ("ask_side_effects", 0.45)],
            ),
            {"ambiguous"},
        ),
        (
            dict(
                intent="ask_aftercare",
                confidence=0.4,
                ranking=[("ask_aftercare", 0.4), ("ask_side_effects", 0.35)],
            ),
            {"low_confidence", "ambiguous"},
        ),
        # a confident answer, and a clear winner: not a miss
        (dict(intent="ask_aftercare", confidence=0.9), None),
        (
            dict(
                intent="ask_aftercare",
                confidence=0.6,
                ranking=[("ask_aftercare", 0.6), ("ask_side_effects", 0.3)],
            ),
            None,
        ),
        # the safety layer decided: its confidence and ranking are not the model's doubt
        (
            dict(
                intent="report_urgent_symptoms",
                confidence=0.2,
                ranking=[("ask_side_effects", 0.2), ("ask_aftercare", 0.19)],
                safety={"fired": True, "rule": "urgent"},
            ),
            None,
        ),
    ],
)
def test_collect_reasons(database_url, save_conversation, event, sources):
    save_conversation([user_event("my eyelid is drooping since tuesday", **event)])
    found = collected(database_url)
    if sources is None:
        assert found == []
    else:
        (candidate,) = found
        assert candidate.sources == sources
        assert candidate.count == 1


def test_collect_suggests_the_best_real_intent_not_the_fallback(database_url, save_conversation):
    save_conversation(
        [
            user_event(
                "what is the jab made of",
                intent="nlu_fallback",
                confidence=0.3,
                ranking=[("nlu_fallback", 0.3), ("ask_how_it_works", 0.28), ("greet", 0.1)],
            )
        ]
    )
    (candidate,) = collected(database_url)
    assert (candidate.suggested_intent, candidate.confidence) == ("ask_how_it_works", 0.28)


def test_collect_skips_button_presses_and_empty_messages(database_url, save_conversation):
    low = dict(intent="nlu_fallback", confidence=0.1, ranking=[])
    save_conversation(
        [user_event("/ask_injection_pain", **low), user_event("   ", **low), user_event("x", **low)]
    )
    assert [c.message for c in collected(database_url)] == ["x"]


def test_collect_redacts_personal_data(database_url, save_conversation):
    save_conversation(
        [
            user_event(
                "my name is Zara Quinn, call 07700 900123 about my appointment",
                intent="nlu_fallback",
                confidence=0.2,
                ranking=[],
            )
        ]
    )
    (candidate,) = collected(database_url)
    for personal in ("Zara", "Quinn", "07700", "900123"):
        assert personal not in candidate.message
        assert personal.lower() not in candidate.key
    assert "<name>" in candidate.message and "<phone>" in candidate.message
    assert candidate.key == text_key(candidate.message)


def test_collect_groups_the_same_question_from_different_patients(database_url, save_conversation):
    low = dict(intent="nlu_fallback", confidence=0.2, ranking=[])
    first = DAY
    last = DAY + dt.timedelta(days=3)
    save_conversation(
        [user_event("my name is Ann Lee, is it safe when pregnant", **low, when=last)]
    )
    save_conversation(
        [user_event("my name is Bo Chan, is it safe when pregnant", **low, when=first)]
    )
    save_conversation(
        [
            user_event(
                "is it safe when pregnant?",
                intent="ask_side_effects",
                confidence=0.4,
                when=first + dt.timedelta(days=1),
            )
        ]
    )
    groups = collected(database_url)
    assert len(groups) == 2
    named = by_message(groups)["my name is <name>, is it safe when pregnant"]
    assert named.count == 2
    assert named.sources == {"fallback", "low_confidence"}
    assert named.first_seen == first.replace(tzinfo=None)
    assert named.last_seen == last.replace(tzinfo=None)


def test_collect_groups_near_duplicates_but_not_different_questions(
    database_url, save_conversation
):
    low = dict(intent="nlu_fallback", confidence=0.2, ranking=[])
    base = "how many weeks between each round of injections for chronic migraine please"
    save_conversation(
        [
            user_event(base, **low),
            # one word more: Jaccard 12/13 >= 0.85, the same question
            user_event(base + " doctor", **low),
            # two words changed: 10/14 < 0.85, another question
            user_event(base.replace("weeks", "days").replace("round", "course"), **low),
        ]
    )
    groups = collected(database_url)
    assert sorted(g.count for g in groups) == [1, 2]
    assert by_message(groups)[base].count == 2


def handoff(database_url: str, tracker, reason: str = "clinical") -> None:
    """The escalation the handoff action writes for the tracker's latest message."""
    from rasa.shared.core.trackers import EventVerbosity

    state = tracker.current_state(EventVerbosity.ALL)
    write_escalation(database_url, request_for_latest_message(state, reason, "normal"))


CONFIDENT_CLINICAL = dict(intent="clinical_question", confidence=0.97)


def test_a_message_handed_to_staff_joins_the_inbox(database_url, save_conversation):
    """Over the REST channel (no client id): the escalation names Rasa's message id."""
    tracker = save_conversation([user_event("can i have it with warfarin", **CONFIDENT_CLINICAL)])
    assert collected(database_url) == []
    handoff(database_url, tracker)
    (candidate,) = collected(database_url)
    assert candidate.sources == {"handoff"}


def test_a_widget_message_handed_to_staff_joins_the_inbox(database_url, save_conversation):
    tracker = save_conversation(
        [
            user_event(
                "can i have it with warfarin",
                metadata={"client_id": "c0ffee00c0ffee00"},
                **CONFIDENT_CLINICAL,
            )
        ]
    )
    handoff(database_url, tracker)
    (candidate,) = collected(database_url)
    assert candidate.sources == {"handoff"}


def test_only_the_handed_off_message_of_a_conversation_joins(database_url, save_conversation):
    tracker = save_conversation(
        [
            user_event("hello", intent="greet", confidence=0.99),
            user_event("can i have it with warfarin", **CONFIDENT_CLINICAL),
        ]
    )
    handoff(database_url, tracker)
    assert [c.message for c in collected(database_url)] == ["can i have it with warfarin"]


def test_a_flagged_conversation_joins_whole(database_url, save_conversation):
    tracker = save_conversation(
        [
            user_event("hello there", intent="greet", confidence=0.99),
            user_event("how long does it last", intent="ask_when_results", confidence=0.9),
        ]
    )
    save_conversation([user_event("bye now", intent="goodbye", confidence=0.99)])  # not flagged
    escalation_id = write_escalation(
        database_url,
        EscalationRequest(
            dedup_key=f"{tracker.sender_id}:staff-flag",
            conversation_id=tracker.sender_id,
            reason="fallback",
            priority="normal",
        ),
    )
    from bot.db.models import Escalation

    with session_scope(database_url) as session:
        session.get(Escalation, escalation_id).flagged_for_training = True
    found = by_message(collected(database_url))
    assert set(found) == {"hello there", "how long does it last"}
    assert all(c.sources == {"flagged"} for c in found.values())


# --- refresh / export / decide -----------------------------------------------------------------


def candidate(message: str, count: int = 1, day: int = 0, sources=("fallback",)) -> Candidate:
    seen = dt.datetime(2026, 3, 2 + day, 10, 0)
    return Candidate(
        message, text_key(message), "ask_aftercare", 0.42, seen, seen, count, set(sources)
    )


def items(database_url: str) -> dict[str, InboxItem]:
    with session_scope(database_url) as session:
        return {i.message: i for i in session.scalars(select(InboxItem))}


def test_refresh_stores_new_candidates(database_url):
    with session_scope(database_url) as session:
        assert refresh(session, [candidate("a b c", 3, sources=("fallback", "ambiguous"))]) == 1
    item = items(database_url)["a b c"]
    assert (item.text_key, item.count, item.suggested_intent) == ("a b c", 3, "ask_aftercare")
    assert item.confidence == pytest.approx(0.42)
    assert item.sources == ["ambiguous", "fallback"]
    assert item.decision is None and item.merged_at is None


def test_refresh_again_updates_and_keeps_decisions(database_url):
    with session_scope(database_url) as session:
        refresh(session, [candidate("a b c", 1, day=1)])
    with session_scope(database_url) as session:
        item = session.scalars(select(InboxItem)).one()
        decide(session, item, "intent", "ask_aftercare", "maintainer")
    with session_scope(database_url) as session:
        again = candidate("a b c", 4, day=5, sources=("handoff",))
        again.first_seen = dt.datetime(2026, 3, 1)
        assert refresh(session, [again, candidate("d e f")]) == 1  # only d e f is new
    stored = items(database_url)
    item = stored["a b c"]
    assert (item.count, item.sources) == (4, ["handoff"])
    assert item.last_seen == dt.datetime(2026, 3, 7, 10, 0)
    assert item.first_seen == dt.datetime(2026, 3, 1)  # the earlier of the two
    assert (item.decision, item.decided_intent, item.decided_by) == (
        "intent",
        "ask_aftercare",
        "maintainer",
    )
    assert len(stored) == 2


def test_refresh_never_moves_first_seen_later(database_url):
    with session_scope(database_url) as session:
        refresh(session, [candidate("a b c", day=0)])
    with session_scope(database_url) as session:
        refresh(session, [candidate("a b c", day=9)])
    assert items(database_url)["a b c"].first_seen == dt.datetime(2026, 3, 2, 10, 0)


def test_export_writes_undecided_and_decided_unmerged_items_most_frequent_first(
    database_url, tmp_path
):
    with session_scope(database_url) as session:
        refresh(session, [candidate("rare one", 1), candidate("common one", 7), candidate("gone")])
    with session_scope(database_url) as session:
        by = {i.message: i for i in session.scalars(select(InboxItem))}
        decide(session, by["rare one"], "intent", "ask_procedure", "m")
        by["gone"].merged_at = dt.datetime(2026, 3, 9)
    out = tmp_path / "var" / "inbox.yml"
    with session_scope(database_url) as session:
        assert export(session, out) == 2
    doc = yaml.safe_load(out.read_text())
    assert [i["message"] for i in doc["items"]] == ["common one", "rare one"]
    common, rare = doc["items"]
    assert common["decision"] is None and common["intent"] is None
    assert common["count"] == 7 and common["confidence"] == 0.42
    assert common["first_seen"] == "2026-03-02T10:00:00"
    assert (rare["decision"], rare["intent"]) == ("intent", "ask_procedure")
    assert "how to annotate" in out.read_text()


@pytest.mark.parametrize(
    ("decision", "intent", "stored_intent"),
    [
        ("intent", "ask_aftercare", "ask_aftercare"),
        ("intent", "other_language", "other_language"),
        ("new_topic", None, None),
        ("new_topic", "ask_aftercare", None),  # only an intent decision keeps an intent
        ("discard", None, None),
    ],
)
def test_decide(database_url, decision, intent, stored_intent):
    with session_scope(database_url) as session:
        refresh(session, [candidate("a b c")])
        item = session.scalars(select(InboxItem)).one()
        decide(session, item, decision, intent, "maintainer")
    item = items(database_url)["a b c"]
    assert (item.decision, item.decided_intent, item.decided_by) == (
        decision,
        stored_intent,
        "maintainer",
    )
    assert item.decided_at is not None


@pytest.mark.parametrize(
    ("decision", "intent", "error"),
    [
        ("intent", "ask_about_the_weather", "unknown intent"),
        ("intent", None, "unknown intent"),
        ("intent", "nlu_fallback", "unknown intent"),
        ("approve", None, "unknown decision"),
        ("", "ask_aftercare", "unknown decision"),
    ],
)
def test_decide_refuses(database_url, decision, intent, error):
    with session_scope(database_url) as session:
        refresh(session, [candidate("a b c")])
        item = session.scalars(select(InboxItem)).one()
        with pytest.raises(ValueError, match=error):
            decide(session, item, decision, intent, "maintainer")
        assert item.decision is None


def test_thresholds_are_the_documented_ones():
    """docs/maintainers.md: below 0.5 confidence, or two intents within 0.1."""
    assert (inbox.LOW_CONFIDENCE, inbox.CLOSE_MARGIN) == (0.5, 0.1)


def test_different_questions_in_another_script_stay_apart(database_url, save_conversation):
    low = dict(intent="nlu_fallback", confidence=0.2, ranking=[])
    save_conversation(
        [user_event("Сколько длится приём?", **low), user_event("Уколы болезненны?", **low)]
    )
    assert sorted(c.count for c in collected(database_url)) == [1, 1]
