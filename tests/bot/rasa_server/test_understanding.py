"""Contextual understanding with a fake NLU: follow-ups parsed with the previous question,
several questions parsed one by one, and safety never lowered by either."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.rasa_server.questions import MAX_PARTS, split_questions
from bot.rasa_server.understanding import previous_question, refine


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("how long does it take and does it hurt?", ["how long does it take", "does it hurt?"]),
        ("How long is a session? Does it hurt?", ["How long is a session?", "Does it hurt?"]),
        ("is it covered by insurance and can i book online?",
         ["is it covered by insurance", "can i book online?"]),
        ("how does it work. when will i see results",
         ["how does it work", "when will i see results"]),
        ("first what happens at the first visit, then how often do I come back",
         ["first what happens at the first visit", "how often do I come back"]),
        ("can i drive and go to work after", ["can i drive and go to work after"]),
        ("my husband and i want to know if it hurts",
         ["my husband and i want to know if it hurts"]),
        ("and gym?", ["and gym?"]),
        ("can i work the next day or will i have side effects",
         ["can i work the next day", "will i have side effects"]),
        ("does it hurt or not", ["does it hurt or not"]),
        ("how many needles, how long, does it hurt",
         ["how many needles", "how long", "does it hurt"]),
        ("Is it expensive, is it painful, and is it a cure",
         ["Is it expensive", "is it painful", "is it a cure"]),
        ("my daughter is 17, is she old enough?", ["my daughter is 17, is she old enough?"]),
        ("how long is it & what does it cost", ["how long is it", "what does it cost"]),
        ("side effects + is it a cure", ["side effects", "is it a cure"]),
        ("how does it work n how long till it works",
         ["how does it work", "how long till it works"]),
        ("can i drive n go to work after", ["can i drive n go to work after"]),
        ("1) does it hurt 2) how long does it take", ["does it hurt", "how long does it take"]),
        ("Questions: - who can have it - how do I book",
         ["Questions:", "who can have it", "how do I book"]),
        ("please tell me what the first visit involves, and whether it is repeated?",
         ["please tell me what the first visit involves", "whether it is repeated?"]),
        ("I'd like to book, what happens at it?", ["I'd like to book", "what happens at it?"]),
        ("is it covered and if so how much", ["is it covered and if so how much"]),
        ("can you cancel tuesday and tell me if i owe anything",
         ["can you cancel tuesday", "tell me if i owe anything"]),
        ("I'm bringing my son (he's 17) to his first consult",
         ["I'm bringing my son (he's 17) to his first consult"]),
        ("the mechanism - is it the muscles?", ["the mechanism - is it the muscles?"]),
        ("", [""]),
    ],
)  # fmt: skip
def test_split_questions(text, parts):
    assert split_questions(text) == parts


def test_split_questions_keeps_at_most_the_limit():
    text = " ".join(f"question number {i}?" for i in range(10))
    parts = split_questions(text)
    assert len(parts) == MAX_PARTS and parts[-1].endswith("number 9?")


def parse(name: str, confidence: float = 0.9, text: str = "x", **extra) -> dict:
    return {"text": text, "intent": {"name": name, "confidence": confidence},
            "intent_ranking": [{"name": name, "confidence": confidence}], **extra}  # fmt: skip


class FakeNlu:
    """``parse_text`` for ``refine``: a fixed intent per text, and a record of what was asked."""

    def __init__(self, answers: dict[str, tuple[str, float]]) -> None:
        self.answers, self.asked = answers, []

    def __call__(self, text: str) -> dict:
        self.asked.append(text)
        name, confidence, *source = self.answers.get(text, ("nlu_fallback", 0.3))
        safety = {"fired": True, "source": source[0]} if source else {"fired": False}
        return parse(name, confidence, text, safety=safety)


def user(text: str, intent: str | None = None):
    return SimpleNamespace(type_name="user", text=text, intent={"name": intent} if intent else {})


def tracker(*events):
    return SimpleNamespace(events=list(events))


def test_an_unclear_follow_up_is_understood_with_the_previous_question():
    nlu = FakeNlu({"can i drive after? and gym?": ("ask_aftercare", 0.9)})
    message = parse("nlu_fallback", 0.3, "and gym?")
    refine(nlu, message, tracker(user("can i drive after?", "ask_aftercare")))
    assert message["intent"] == {"name": "ask_aftercare", "confidence": 0.9}
    assert message["context"] == {"from_intent": "nlu_fallback", "from_confidence": 0.3}


def test_after_a_button_the_answered_topic_title_is_the_context(monkeypatch):
    monkeypatch.setattr(
        "bot.rasa_server.understanding._topic_titles",
        lambda: {"ask_aftercare": "What can I do after a session?"},
    )
    nlu = FakeNlu({"What can I do after a session? and gym?": ("ask_aftercare", 0.8)})
    message = parse("out_of_scope", 0.4, "and gym?")
    refine(nlu, message, tracker(user("/ask_aftercare", "ask_aftercare")))
    assert message["intent"]["name"] == "ask_aftercare"


@pytest.mark.parametrize(
    "original",
    [
        # sure enough on its own words, and too long to be part of the previous question
        parse("ask_aftercare", 0.8, "and is it fine to go to the gym in the evening after it?"),
        parse("report_urgent_symptoms", 1.0, "and now i can't swallow"),
        parse("clinical_question", 0.9, "and with my warfarin?"),
        parse("other_language", 1.0, "y el gimnasio?"),
        parse("request_human", 0.4, "and a person?"),
        parse("nlu_fallback", 0.3, "/ask_aftercare"),
    ],
)
def test_context_never_changes_a_sure_or_safety_decision(original):
    nlu = FakeNlu({})
    before = {k: (dict(v) if isinstance(v, dict) else v) for k, v in original.items()}
    refine(nlu, original, tracker(user("can i drive after?")))
    assert original == before and nlu.asked == []


def test_a_contextual_parse_that_is_not_an_answerable_topic_is_ignored():
    nlu = FakeNlu({"i take warfarin? and gym?": ("clinical_question", 0.9)})
    message = parse("nlu_fallback", 0.3, "and gym?")
    refine(nlu, message, tracker(user("i take warfarin?")))
    assert message["intent"]["name"] == "nlu_fallback" and "context" not in message


def test_without_a_previous_question_nothing_changes():
    message = parse("nlu_fallback", 0.3, "and gym?")
    refine(FakeNlu({}), message, tracker())
    assert "context" not in message


def test_two_questions_are_recorded_in_order():
    nlu = FakeNlu({"how long does it take": ("ask_session_length", 0.9),
                   "does it hurt?": ("ask_injection_pain", 0.8)})  # fmt: skip
    message = parse("ask_injection_pain", 0.5, "how long does it take and does it hurt?")
    refine(nlu, message, tracker())
    assert [q["intent"] for q in message["questions"]] == [
        "ask_session_length",
        "ask_injection_pain",
    ]
    assert message["intent"]["name"] == "ask_session_length"


def test_a_personal_part_sends_the_message_to_staff_after_the_general_answer():
    nlu = FakeNlu({"how long does it take": ("ask_session_length", 0.9),
                   "is it safe with my warfarin?": ("clinical_question", 1.0)})  # fmt: skip
    message = parse(
        "ask_session_length", 0.6, "how long does it take and is it safe with my warfarin?"
    )
    refine(nlu, message, tracker())
    assert message["intent"]["name"] == "clinical_question"
    assert [(q["intent"], q["personal"]) for q in message["questions"]] == [
        ("ask_session_length", False),
        ("clinical_question", True),
    ]


@pytest.mark.parametrize("source", ["rules", "error", "intent"])
def test_a_part_in_which_the_rules_read_an_emergency_makes_the_whole_message_urgent(source):
    # "intent": the intent classifier found it in a message not (only) in English.
    urgent_part = "why can't i swallow since yesterday?"
    nlu = FakeNlu({"how long does it take": ("ask_session_length", 0.9),
                   urgent_part: ("report_urgent_symptoms", 1.0, source)})  # fmt: skip
    message = parse("ask_session_length", 0.7,
                    "how long does it take and why can't i swallow since yesterday?")  # fmt: skip
    refine(nlu, message, tracker())
    assert message["intent"]["name"] == "report_urgent_symptoms" and "questions" not in message
    assert message["safety"]["source"] == source


@pytest.mark.parametrize("source", ["classifier", None])
def test_a_part_only_the_classifiers_call_urgent_goes_to_a_person_after_the_answer(source):
    # Read alone, "I work nights at the hospital" looked like a report to the classifiers,
    # while the whole message, with its own safety check, was not urgent.
    fragment = "I work nights at the hospital so days are hard"
    answer = ("report_urgent_symptoms", 0.8, source) if source else ("report_urgent_symptoms", 0.8)
    nlu = FakeNlu({"do you have evening slots?": ("book_appointment", 0.9), fragment: answer})
    message = parse("book_appointment", 0.8, f"do you have evening slots? {fragment}")
    refine(nlu, message, tracker())
    assert message["intent"]["name"] == "clinical_question"
    assert [(q["intent"], q["personal"]) for q in message["questions"]] == [
        ("book_appointment", False),
        ("clinical_question", True),
    ]


@pytest.mark.parametrize("whole", ["ask_side_effects", "nlu_fallback", "book_appointment"])
def test_a_message_with_a_part_the_classifiers_call_urgent_never_gets_an_answer_alone(whole):
    # No topic found in the other part: no several-question answer, yet staff must read it.
    fragment = "my lips feel odd"
    nlu = FakeNlu({fragment: ("report_urgent_symptoms", 0.7, "classifier")})  # other part: none
    message = parse(whole, 0.8, f"what are the side effects? {fragment}")
    refine(nlu, message, tracker())
    assert message["intent"]["name"] == "clinical_question"
    assert "questions" not in message


def test_one_topic_twice_is_not_two_questions():
    nlu = FakeNlu({"does it hurt": ("ask_injection_pain", 0.9),
                   "is it painful?": ("ask_injection_pain", 0.9)})  # fmt: skip
    message = parse("ask_injection_pain", 0.9, "does it hurt and is it painful?")
    refine(nlu, message, tracker())
    assert "questions" not in message


def test_previous_question_skips_the_current_turn_and_bot_events():
    bot = SimpleNamespace(type_name="bot", text="answer")
    assert previous_question(tracker(user("first"), bot, user("second"), bot)) == "second"


def answered(topic: str):
    return SimpleNamespace(
        type_name="bot", metadata={"reply_metadata": {"kind": "answer", "intent": topic}}
    )


@pytest.mark.parametrize(
    ("text", "short"),
    [("how long do they last", True), ("for how long?", True), ("till when?", True),
     ("is that the same for the consult one?", True), ("and the treatment day?", True),
     ("", True),
     ("how long do they last and is there anything at all that I can do about them", False)],
)  # fmt: skip
def test_is_short(text, short):
    from bot.rasa_server.understanding import is_short

    assert is_short(text) is short


def test_a_sure_follow_up_pointing_back_takes_the_last_answers_topic():
    before = "what are the side effects?"
    nlu = FakeNlu({f"{before} how long do they last": ("ask_side_effects", 0.93)})
    message = parse("ask_treatment_schedule", 0.75, "how long do they last")
    history = tracker(user(before, "ask_side_effects"), answered("ask_side_effects"))
    refine(nlu, message, history)
    assert message["intent"] == {"name": "ask_side_effects", "confidence": 0.93}
    assert message["context"] == {"from_intent": "ask_treatment_schedule", "from_confidence": 0.75}


@pytest.mark.parametrize(
    ("before", "text", "own", "combined"),
    [
        ("how often do i need it?", "for how long?", ("ask_session_length", 0.84),
         ("ask_treatment_schedule", 0.98)),
        ("how often do you repeat it", "till when?", ("ask_when_results", 0.71),
         ("ask_treatment_schedule", 0.99)),
        ("will it fix migraines for good", "not even after years of it?",
         ("ask_treatment_schedule", 0.52), ("ask_is_it_a_cure", 0.99)),
    ],
)  # fmt: skip
def test_a_short_sure_question_read_with_the_previous_one_takes_the_clearer_topic(
    before, text, own, combined
):
    nlu = FakeNlu({f"{before} {text}": combined})
    message = parse(own[0], own[1], text)
    refine(nlu, message, tracker(user(before), answered("ask_treatment_schedule")))
    assert message["intent"] == {"name": combined[0], "confidence": combined[1]}
    assert message["context"] == {"from_intent": own[0], "from_confidence": own[1]}


@pytest.mark.parametrize(
    "combined",
    [
        ("ask_session_length", 0.6),  # less sure than the message alone
        ("ask_cost_insurance", 0.95),  # not surer by the margin
        ("ask_injection_pain", 0.95),  # the message's own topic
    ],
)
def test_a_sure_follow_up_keeps_its_own_topic_otherwise(combined):
    before = "how long does a session take?"
    nlu = FakeNlu({f"{before} does that hurt?": combined})
    message = parse("ask_injection_pain", 0.9, "does that hurt?")
    refine(nlu, message, tracker(user(before), answered("ask_session_length")))
    assert message["intent"] == {"name": "ask_injection_pain", "confidence": 0.9}
    assert "context" not in message


def test_a_sure_long_question_is_not_parsed_again():
    text = "what about the cost of the whole course of treatment over a year?"
    nlu = FakeNlu({})
    message = parse("ask_cost_insurance", 0.9, text)
    refine(nlu, message, tracker(user("does it hurt?"), answered("ask_injection_pain")))
    assert nlu.asked == [] and message["intent"]["name"] == "ask_cost_insurance"


@pytest.mark.parametrize(
    ("text", "own", "combined"),
    [
        ("yes that is fine", ("affirm", 0.91), ("ask_side_effects", 0.99)),  # small talk stays
        ("no not that", ("deny", 0.99), ("ask_side_effects", 0.99)),
        ("can i book them?", ("book_appointment", 0.6), ("ask_side_effects", 0.99)),  # staff
        ("what do they cost", ("ask_cost_insurance", 0.6), ("ask_side_effects", 0.99)),
        ("are they dangerous?", ("ask_serious_risks", 0.6), ("ask_side_effects", 0.99)),
        ("how long do they last", ("ask_treatment_schedule", 0.9), ("ask_side_effects", 0.95)),
    ],
)  # fmt: skip
def test_only_an_faq_topic_moves_and_only_for_a_clearly_surer_reading(text, own, combined):
    before = "what are the side effects?"
    nlu = FakeNlu({f"{before} {text}": combined})
    message = parse(own[0], own[1], text)
    refine(nlu, message, tracker(user(before, "ask_side_effects"), answered("ask_side_effects")))
    assert message["intent"] == {"name": own[0], "confidence": own[1]}
    assert "context" not in message


@pytest.mark.parametrize(
    ("text", "combined", "moves"),
    [
        ("what about swimming", ("ask_aftercare", 0.95), True),
        ("and makeup?", ("ask_aftercare", 0.85), True),
        ("and makeup?", ("ask_aftercare", 0.7), False),  # surer than an unsure parse must be
        ("is it sunny there today", ("ask_aftercare", 0.95), False),  # not a continuation
    ],
)
def test_a_sure_out_of_scope_continuation_is_read_with_the_previous_question(text, combined, moves):
    nlu = FakeNlu({f"can i go back to work the same day? {text}": combined})
    message = parse("out_of_scope", 0.6, text)
    refine(nlu, message, tracker(user("can i go back to work the same day?")))
    assert (message["intent"]["name"] == "ask_aftercare") is moves
    if moves:
        assert message["context"] == {"from_intent": "out_of_scope", "from_confidence": 0.6}


def test_an_unsure_goodbye_in_a_conversation_is_read_with_the_previous_question():
    nlu = FakeNlu({"first appointment what happens who will i see": ("ask_first_visit", 0.9)})
    message = parse("goodbye", 0.43, "who will i see")
    refine(nlu, message, tracker(user("first appointment what happens")))
    assert message["intent"]["name"] == "ask_first_visit"


def test_a_sure_goodbye_stays_a_goodbye():
    nlu = FakeNlu({})
    message = parse("goodbye", 0.95, "ok bye")
    refine(nlu, message, tracker(user("first appointment what happens")))
    assert message["intent"]["name"] == "goodbye" and nlu.asked == []
