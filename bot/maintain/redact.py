"""Removing personal data from patient messages before they leave the database.

spaCy token attributes and Matcher patterns find names after an introduction ("my name is",
"this is", "i'm called") and dates of birth in words; tested regular expressions find phone
numbers, e-mail addresses, numeric dates and street addresses. Each is replaced by a tag such
as ``<name>`` so the sentence still reads as training data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import spacy
from spacy.language import Language
from spacy.matcher import Matcher

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International or national numbers with at least 9 digits, spaced, dotted or dashed.
PHONE = re.compile(r"(?<![\w/])\+?\(?\d[\d\s().-]{7,}\d(?![\w/])")
DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})\b|\b\d{4}-\d{2}-\d{2}\b")
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|court|ct|place|pl|crescent|"
    r"boulevard|blvd|terrace|gardens|grove|square|sq|hill|park|row|mews"
)
ADDRESS = re.compile(
    rf"\b\d{{1,5}}[a-z]?\s+(?:[a-z][a-z'-]+\s+){{1,3}}(?:{_STREET_WORDS})\b\.?", re.IGNORECASE
)
# UK and US postcodes, the other half of an address.
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b\d{5}(?:-\d{4})\b", re.IGNORECASE)

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
_INTRODUCTIONS = [
    [{"LOWER": "my"}, {"LOWER": "name"}, {"LOWER": {"IN": ["is", "'s", "s"]}}],
    [{"LOWER": "this"}, {"LOWER": "is"}],
    [{"LOWER": {"IN": ["i'm", "im"]}}, {"LOWER": "called"}],
    [{"LOWER": "i"}, {"LOWER": {"IN": ["'m", "m"]}}, {"LOWER": "called"}],
    [{"LOWER": "i"}, {"LOWER": "am"}, {"LOWER": "called"}],
    [{"LOWER": "call"}, {"LOWER": "me"}],
    [{"LOWER": "name"}, {"LOWER": ":"}],
]
# Words after "this is" that are not a name ("this is urgent", "this is my third round").
_NOT_NAMES = {
    "a",
    "an",
    "the",
    "my",
    "about",
    "urgent",
    "normal",
    "it",
    "so",
    "very",
    "really",
    "not",
    "for",
    "getting",
    "going",
    "making",
    "driving",
    "awful",
    "terrible",
    "ok",
    "okay",
    "what",
    "how",
    "why",
    "because",
    "happening",
    "worse",
    "bad",
    "serious",
    "scary",
    "day",
    "week",
    "weird",
    "strange",
    "embarrassing",
    "me",
    "just",
    "all",
    "too",
    "that",
    "back",
}


@dataclass(frozen=True)
class Redaction:
    kind: str  # name | phone | email | date | address
    start: int
    end: int


class Redactor:
    """Replaces personal data in a message by ``<name>``, ``<phone>``, ``<email>``, ``<date>``,
    ``<address>``."""

    def __init__(self, nlp: Language | None = None) -> None:
        self.nlp = nlp or spacy.blank("en")
        self._intro = Matcher(self.nlp.vocab)
        self._intro.add("intro", _INTRODUCTIONS)
        self._dob = Matcher(self.nlp.vocab)
        self._dob.add(
            "date",
            [
                [
                    {"LIKE_NUM": True},
                    {"LOWER": {"IN": ["st", "nd", "rd", "th"]}, "OP": "?"},
                    {"LOWER": "of", "OP": "?"},
                    {"LOWER": {"IN": _MONTHS}},
                    {"LIKE_NUM": True, "OP": "?"},
                ],
                [
                    {"LOWER": {"IN": _MONTHS}},
                    {"LIKE_NUM": True},
                    {"IS_PUNCT": True, "OP": "?"},
                    {"LIKE_NUM": True, "OP": "?"},
                ],
            ],
        )

    def find(self, text: str) -> list[Redaction]:
        found: list[Redaction] = []
        for kind, pattern in (
            ("email", EMAIL),
            ("address", ADDRESS),
            ("address", POSTCODE),
            ("date", DATE),
            ("phone", PHONE),
        ):
            found += [Redaction(kind, m.start(), m.end()) for m in pattern.finditer(text)]
        doc = self.nlp(text)
        for _, _start, end in self._intro(doc):
            found += self._name_after(doc, end)
        for span in self._dob(doc, as_spans=True):
            found.append(Redaction("date", span.start_char, span.end_char))
        return _merge(found)

    def _name_after(self, doc, index: int) -> list[Redaction]:  # noqa: ANN001
        """Up to three name-like tokens after an introduction."""
        tokens = []
        for token in doc[index : index + 3]:
            if token.is_punct or token.like_num or token.lower_ in _NOT_NAMES or not token.is_alpha:
                break
            if tokens and not token.is_title:  # "this is Anna and ..." stops at "and"
                break
            tokens.append(token)
        if not tokens:
            return []
        return [Redaction("name", tokens[0].idx, tokens[-1].idx + len(tokens[-1].text))]

    def redact(self, text: str) -> str:
        out, last = [], 0
        for item in self.find(text):
            out.append(text[last : item.start])
            out.append(f"<{item.kind}>")
            last = item.end
        out.append(text[last:])
        return "".join(out)


def _merge(found: list[Redaction]) -> list[Redaction]:
    """Non-overlapping redactions, earliest first; the longer one wins an overlap."""
    merged: list[Redaction] = []
    for item in sorted(found, key=lambda r: (r.start, -(r.end - r.start))):
        if merged and item.start < merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Redaction(merged[-1].kind, merged[-1].start, item.end)
            continue
        merged.append(item)
    return merged
