"""LanguageDetector: the message's language and any sentence in another one (lingua, offline)."""

from __future__ import annotations

import pytest

from bot.safety.language import ENGLISH, LanguageDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("text", "language", "other"),
    [
        ("how long does the appointment take?", "en", None),
        ("cant swallow", "en", None),  # short English fragments stay English
        ("¿Cuánto dura la sesión de inyecciones?", "es", "es"),
        ("Wie lange dauert die Sitzung heute?", "de", "de"),
        ("我的脸从昨天开始肿了", "zh", "zh"),
        (
            "Where do I park for the clinic on Tuesday, and is there a drop-off point at the "
            "main entrance for my mother? Su cara está hinchada.",
            "en",
            "es",
        ),
        ("Thanks for the leaflet. Do I need to bring anything on the day?", "en", None),
    ],
)
def test_language_and_other_language(detector, text, language, other):
    guess = detector.guess(text)
    assert (guess.language, guess.other_language) == (language, other)
    assert guess.english_only is (other is None)


def test_a_message_of_one_sentence_is_judged_once(detector, monkeypatch):
    calls: list[str] = []
    judge = detector.language_of
    monkeypatch.setattr(detector, "language_of", lambda text: calls.append(text) or judge(text))
    detector.guess("how long does the appointment take?")
    assert calls == ["how long does the appointment take?"]
    text = "Where do I park on Tuesday? Is there a drop-off point at the main entrance?"
    assert detector.guess(text).language == ENGLISH
    assert len(calls) == 1 + 1 + 2  # the message, then each of its two sentences
