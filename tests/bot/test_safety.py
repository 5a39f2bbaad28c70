"""The spaCy safety rules: tables of sentences that must and must not fire."""

from __future__ import annotations

import pytest

from bot.safety import SafetyDetector


@pytest.fixture(scope="module")
def detector() -> SafetyDetector:
    return SafetyDetector()


URGENT_FIRES = [
    ("since my shots yesterday i can't swallow properly", "trouble swallowing"),
    ("since my shots yesterday i can’t swallow properly", "trouble swallowing"),  # phone apostrophe
    ("is it normal that i cant swallow since yesterdays injections?", "trouble swallowing"),
    ("food keeps getting stuck in my throat since monday", "trouble swallowing"),
    ("having trouble breathing after the injections and its getting worse", "trouble breathing"),
    ("i feel short of breath since the botox", "trouble breathing"),
    ("my speech is slurred since this morning", "trouble speaking"),
    ("my dad had his shots today and now he cant talk properly", "trouble speaking"),
    ("i have double vision since my treatment on tuesday", "vision problems"),
    ("everything went double while i was driving home after my appointment", "vision problems"),
    ("my eyelid is drooping since the injections", "drooping eyelid"),
    ("my right eyelid has been a bit droopy since tuesday, is that normal?", "drooping eyelid"),
    ("i cannot open my eye fully since the shots", "drooping eyelid"),
    ("my arms feel weak and it is spreading to my legs", "muscle weakness"),
    ("my lips and tongue are swelling up after the injections", "allergic reaction"),
    ("i have hives all over since the botox", "allergic reaction"),
    ("this is the worst headache of my life, it came on suddenly", "worst sudden headache"),
    ("sudden thunderclap headache 20 mins ago", "worst sudden headache"),
    ("i have chest pain since this morning", "chest pain"),
    ("i passed out in the car park after the shots", "fainting"),
    ("i fainted at home an hour after my appointment", "fainting"),
    ("i keep thinking about killing myself", "thoughts of self-harm"),
    ("honestly i don't see the point in living anymore", "thoughts of self-harm"),
    ("if this botox doesnt work i dont want to live", "thoughts of self-harm"),
    ("im having suicidal thoughts", "thoughts of self-harm"),
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
    "i want to speak to a nurse",
    "do they numb the skin first",
    "how long does the appointment take",
    "",
]


@pytest.mark.parametrize(("text", "rule"), URGENT_FIRES)
def test_urgent_rule_fires(detector, text, rule):
    match = detector.urgent(text)
    assert match is not None, text
    assert match.rule == rule
    assert text.replace("\u2019", "'")[match.start_char : match.end_char] == match.phrase


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
    ("should i stop taking my propranolol before the shots", "stop or change a medicine"),
    ("i get 12 headache days a month, do i count as chronic", "own headache pattern"),
    ("is it safe for me with my heart condition", "safe for me"),
    ("i have a heart condition, will that be a problem", "own conditions"),
    ("I have headaches every day and numb hands, what do I have?", "diagnosis request"),
    ("what's wrong with me, my head hurts all the time", "diagnosis request"),
    ("whats wrong with me", "diagnosis request"),
    ("please diagnose my headache", "diagnosis request"),
    ("what is causing my migraines", "diagnosis request"),
]

CLINICAL_DOES_NOT_FIRE = [
    "how long does the session take",
    "does it hurt",
    "do i need to bring a list of my medications to the first appointment",
    "can i get help with medication overuse headache there",
    "how many headache days do you need to qualify",  # general eligibility
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
