"""The spaCy safety rules: tables of sentences that must and must not fire."""

from __future__ import annotations

import pytest

from bot.safety import SafetyDetector
from bot.safety.spec import load_spec


@pytest.fixture(scope="module")
def detector() -> SafetyDetector:
    return SafetyDetector()


SPEC = load_spec()
CATEGORY_FIRES = [(t, c.id) for c in SPEC.categories.values() for t in c.must_fire]
CATEGORY_DOES_NOT_FIRE = [(t, c.id) for c in SPEC.categories.values() for t in c.must_not_fire]


@pytest.mark.parametrize(("text", "category"), CATEGORY_FIRES)
def test_each_category_fires_on_its_must_fire_examples(detector, text, category):
    assert category in [m.rule for m in detector.urgent_all(text)], text


@pytest.mark.parametrize(("text", "category"), CATEGORY_DOES_NOT_FIRE)
def test_no_category_fires_on_a_must_not_fire_example(detector, text, category):
    assert detector.urgent(text) is None, text


# Classes of the development set (data/eval/safety/dev.yml), each with our own sentences.
URGENT_FIRES = [
    # compound: a practical question first, the emergency after it, in passing
    ("where do i park? also my lips are swelling up since the shots", "allergic_reaction"),
    ("how much is the next session, btw my husband collapsed an hour ago", "fainting_collapse"),
    ("can i book for friday. oh and my face is drooping on the left side", "stroke_signs"),
    (
        "do you validate parking, and one more thing, i took 15 sumatriptan today",
        "overdose_poisoning",
    ),
    # negation scope: a negation in one clause does not switch off another clause
    ("no fever, but my face is drooping on one side", "stroke_signs"),
    ("i don't have a rash, my throat feels like it's closing", "allergic_reaction"),
    ("not in pain at all; i can't swallow since this morning", "distant_spread"),
    # third person
    ("my dad had his shots today and now he cant talk properly", "distant_spread"),
    ("my wife is having a seizure right now", "seizure"),
    ("my son swallowed a handful of my migraine pills", "overdose_poisoning"),
    # minimising
    ("probably nothing but i have chest pain since this morning", "chest_pain"),
    ("sorry to bother you, i fainted at home an hour after my appointment", "fainting_collapse"),
    # other languages and code-mixing
    ("desde la inyección no puedo tragar bien", "distant_spread"),
    ("mi esposo ve doble desde ayer", "distant_spread"),
    ("tengo fiebre y el cuello muy rígido", "meningitis_signs"),
    ("how long is the session? y me duele mucho el pecho", "chest_pain"),
    # suicidal ideation without the obvious words, and never switched off by a negation
    ("honestly i don't see the point in living anymore", "suicide_self_harm"),
    ("if this botox doesnt work i dont want to live", "suicide_self_harm"),
    ("some nights i hope i just don't wake up", "suicide_self_harm"),
    ("ya no quiero vivir con este dolor", "suicide_self_harm"),
    # typos and phone apostrophes
    ("since my shots yesterday i can’t swallow properly", "distant_spread"),
    ("worst hedache of my life came on in seconds", "thunderclap_headache"),
]

URGENT_DOES_NOT_FIRE = [
    "can botox cause trouble swallowing?",  # a general question: ask_serious_risks
    "is double vision a side effect of botox",
    "what are the risks, could it affect my breathing?",
    "no trouble swallowing, just wondering how long the redness lasts",  # negated
    "i don't have any double vision, is a bit of redness normal",
    "breathing fine, swallowing fine, just a little tender at the sites",
    "haven't had any chest pain or anything, just a slight headache",
    "im not having any symptoms, just want to know can botox cause breathing trouble",
    "a woman in my group said she got double vision after botox years ago, how common is that",
    "my dad had a stroke years ago, is there a link between botox and strokes?",  # history
    "my sister keeps sending me horror stories about people who couldnt breathe after botox",
    "i'm scared of choking, can botox in the neck muscles affect swallowing?",
    "do people ever faint during the injections?",
    "puede el botox causar vision doble?",
    "estoy dando pecho a mi bebé, can I still get the botox?",  # breastfeeding, not chest pain
    "the pain is killing me, can botox help",
    "i want to speak to a nurse",
    "do they numb the skin first",
    "how long does the appointment take",
    "",
]


@pytest.mark.parametrize(("text", "category"), URGENT_FIRES)
def test_urgent_rule_fires(detector, text, category):
    matches = detector.urgent_all(text)
    assert category in [m.rule for m in matches], (text, matches)
    match = matches[0]
    assert match.phrase and match.clause


@pytest.mark.parametrize("text", URGENT_DOES_NOT_FIRE)
def test_urgent_rule_does_not_fire(detector, text):
    assert detector.urgent(text) is None


CLINICAL_FIRES = [
    ("i take topiramate every day, can i still have botox", "own medicines"),
    ("im on warfarin is that a problem", "own medicines"),
    ("i'm pregnant, can i have the injections", "pregnancy or breastfeeding"),
    ("is it ok while breastfeeding", "pregnancy or breastfeeding"),
    ("we are trying for a baby, should i wait", "pregnancy or breastfeeding"),
    ("how many units will i get", "dose or units"),
    ("can i get a higher dose next time", "dose or units"),
    ("i have epilepsy, does that matter", "own conditions"),
    ("i was diagnosed with myasthenia gravis years ago", "own conditions"),
    ("is it normal that i still have a bruise where they injected me?", "own symptom"),
    ("is it riskier for people with my condition?", "own symptom"),
    ("do the injection spots itch the next day? mine do, a bit", "own situation confirmed"),
    ("does it help migraines tied to periods? mine always are", "own situation confirmed"),
    ("is a bump normal a week after? i can still feel one", "own situation confirmed"),
    ("does it work for migraine with aura? that's the type i get", "own situation confirmed"),
    ("should i stop taking my propranolol before the shots", "stop or change a medicine"),
    ("i get 12 headache days a month, do i count as chronic", "own headache pattern"),
    ("am i a candidate? i get about 20 migraine days a month", "own headache pattern"),
    ("i have tried three preventives already, am i a good candidate?", "own headache pattern"),
    ("with 9 headache days a month would i qualify", "own headache pattern"),
    ("is it safe for me with my heart condition", "safe for me"),
    ("i have a heart condition, will that be a problem", "own conditions"),
    ("I have headaches every day and numb hands, what do I have?", "diagnosis request"),
    ("what's wrong with me, my head hurts all the time", "diagnosis request"),
    ("whats wrong with me", "diagnosis request"),
    ("please diagnose my headache", "diagnosis request"),
    ("what is causing my migraines", "diagnosis request"),
]

CLINICAL_DOES_NOT_FIRE = [
    "does it hurt? i am scared",
    "how long does it take? i have work after",
    "will i bruise",  # a general question about what may happen
    "will i have red marks on my forehead when i go back to work the next day",
    "can someone explain it in plain english, im so tired of medical jargon",
    "my husband asks how a few jabs in my forehead can stop a migraine",
    "how long does the session take",
    "does it hurt",
    "do i need to bring a list of my medications to the first appointment",
    "can i get help with medication overuse headache there",
    "how many headache days do you need to qualify",  # general eligibility
    "should i bring my medicine list to the first visit",
    "can i take a hot shower after",
    "should i take the whole day off work",
    "what happens at the first visit",
    "what do i have to bring to the appointment",
    "what do i have to do afterwards",
    "what is wrong with the old treatments",
]


@pytest.mark.parametrize(("text", "rule"), CLINICAL_FIRES)
def test_clinical_rule_fires(detector, text, rule):
    match = detector.clinical(text)
    assert match is not None, text
    assert match.rule == rule


@pytest.mark.parametrize("text", CLINICAL_DOES_NOT_FIRE)
def test_clinical_rule_does_not_fire(detector, text):
    assert detector.clinical(text) is None


def test_rules_are_deterministic(detector):
    text = "since my shots yesterday i can't swallow properly"
    assert {detector.urgent(text) for _ in range(5)} == {detector.urgent(text)}


def test_very_long_input_is_handled(detector):
    text = "how long does it take " * 2000 + " i can't breathe since the injections"
    assert detector.urgent(text) is not None


# Chinese and Arabic: their cues are found inside words (cues.yml ``inside_words``).
@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("我昨天打了针，现在吞咽困难", True),
        ("我妈突然说话不清楚了", True),
        ("打完肉毒素以后会不会吞咽困难？", False),
        ("如果出现呼吸困难怎么办？", False),
        ("عندي صعوبة في البلع من امس بعد الحقن", True),
        ("هل يمكن أن يسبب البوتوكس صعوبة في البلع؟", False),
        ("toi tiem hom qua, bay gio kho nuot", True),
        # Cues must not be parts of everyday words, nor judge another sentence (review 2026-11-29).
        ("أمي فقدت الوعي", True),  # "consciousness" holds the letters of "if"
        ("عندي صداع شديد بعد الولادة", True),
        ("我两个小时以前突然剧烈头痛", True),  # "ago" is not "in the past"
        ("我头痛得厉害，以前从来没有这么痛过", True),
        ("我以前有偏头痛。今天突然剧烈头痛", True),
        ("أفكار انتحارية طول الوقت", True),
        ("不想活了，可能明天就结束", True),
    ],
)
def test_cues_inside_words_judge_chinese_and_arabic_reports(detector, text, fires):
    assert (detector.urgent(text) is not None) is fires, text


def test_an_unknown_inside_words_list_is_refused(tmp_path):
    import shutil

    from bot.config import PROJECT_ROOT
    from bot.safety.spec import load_spec

    copy = tmp_path / "safety"
    shutil.copytree(PROJECT_ROOT / "data" / "safety", copy)
    cues = copy / "cues.yml"
    cues.write_text(cues.read_text() + "  whoever: [x]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="whoever"):
        load_spec(copy)


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("打完针一个星期，没有吞咽困难", False),  # said to be absent
        ("我爸是不是中风了", True),  # "is it a stroke?": 不是 is not a negation here
        ("我妈有没有中风了，我好担心", True),  # "whether" is not a negation
        ("她说她没有自残", True),  # suicide and self-harm: never switched off by a negation
    ],
)
def test_a_negation_before_a_phrase_in_chinese(detector, text, fires):
    assert (detector.urgent(text) is not None) is fires


# Clause boundaries scope negation and history: "and" before a here-and-now word starts one;
# "plus" / "mais" / "más" right after a negated verb mean "anymore" and do not.
@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("i've had migraines for 20 years and since this morning i can't swallow", 2),
        ("i'm 45 years old and now my face droops", 2),
        ("my husband and my son came with me", 1),
        ("je ne peux plus avaler depuis hier", 1),
        ("nao consigo mais engolir", 1),
        ("ya no puedo mas tragar", 1),
        ("je n'ai pas de fievre mais j'ai le cou raide", 2),
        ("no fever plus my neck is stiff", 2),
    ],
)
def test_clause_boundaries(detector, text, clauses):
    assert len(list(detector.parse(text).sents)) == clauses, text


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("my son is 12 years old and just had a seizure", True),
        ("tenho 40 anos e nao consigo engolir desde ontem", True),
        ("tengo 30 anos y desde esta manana no puedo tragar", True),
        ("my dad had a stroke years ago", False),
        ("mi padre tuvo un derrame hace anos", False),
    ],
)
def test_an_age_is_not_a_story_from_the_past(detector, text, fires):
    assert (detector.urgent(text) is not None) is fires, text
