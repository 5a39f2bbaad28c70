"""Which language a patient writes in, offline, with lingua-language-detector.

Built with only the languages the clinic has notices for (all 75 take about 10 s to load; these
take about 1 s). Short English fragments ("cant swallow", "ok") are easy to misread, so a
message counts as another language only when it has a few words and that language clearly
outscores English; a script other than Latin decides at once.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

ENGLISH = "en"
# The languages with a vetted notice in data/content/translations.yml, besides English.
SUPPORTED = ("es", "pt", "fr", "de", "it", "pl", "nl", "vi", "zh", "ar")
MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_SENTENCE = re.compile(r"(?<=[.?!。！？])\s*|\n+")


@dataclass(frozen=True)
class LanguageGuess:
    """The message's main language and whether any sentence of it is in another one."""

    language: str  # ISO 639-1
    other_language: str | None  # the first non-English language found, if any

    @property
    def english_only(self) -> bool:
        return self.other_language is None


class LanguageDetector:
    """Wraps lingua; the models load on first use, once per process."""

    def __init__(self, languages: tuple[str, ...] = (ENGLISH, *SUPPORTED)) -> None:
        self.languages = languages
        self._detector = None
        self._lock = threading.Lock()

    @property
    def detector(self):  # noqa: ANN201 - lingua's type
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    from lingua import IsoCode639_1, LanguageDetectorBuilder

                    codes = [getattr(IsoCode639_1, code.upper()) for code in self.languages]
                    self._detector = (
                        LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
                        .with_preloaded_language_models()
                        .build()
                    )
        return self._detector

    def warm_up(self) -> None:
        self.guess("warming up the language models")

    def language_of(self, text: str) -> str:
        """The language of one stretch of text, English when unsure."""
        letters = [c for c in text if c.isalpha()]
        if letters:
            if sum(bool(_CJK.match(c)) for c in letters) / len(letters) > 0.3:
                return "zh"
            if sum(bool(_ARABIC.match(c)) for c in letters) / len(letters) > 0.3:
                return "ar"
        if len(_WORD.findall(text)) < MIN_WORDS:
            return ENGLISH
        values = self.detector.compute_language_confidence_values(text)
        scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
        best = max(scores, key=scores.get)
        english = scores.get(ENGLISH, 0.0)
        if best != ENGLISH and scores[best] >= 0.3 and scores[best] >= 2 * english:
            return best
        return ENGLISH

    def guess(self, text: str) -> LanguageGuess:
        """The whole message's language, and any sentence that is not English."""
        main = self.language_of(text)
        other = main if main != ENGLISH else None
        sentences = [s for s in _SENTENCE.split(text) if s and s.strip()]
        if other is None and len(sentences) > 1:  # one sentence: the message, judged above
            for sentence in sentences:
                language = self.language_of(sentence)
                if language != ENGLISH:
                    other = language
                    break
        return LanguageGuess(main, other)
