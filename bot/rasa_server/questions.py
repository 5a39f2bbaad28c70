"""Where one patient message holds more than one question ("how long does it take and does it
hurt?"): the parts, each to be understood on its own. Plain text rules, no model."""

from __future__ import annotations

import re

MAX_QUESTIONS = 3  # answered at most
MAX_PARTS = 5  # looked at: a statement ("I am scared.") may come between questions
# Words a question starts with; a joining word followed by one of them starts a new question.
_QUESTION_START = (
    r"(?:how|what|whats|what's|when|where|who|whom|why|which|does|do|did|is|are|was|will|would|"
    r"can|could|should|shall|may|might|am|has|have)"
)
# "and", "also", "plus", "or", "then", "&"… joining two questions (only before a question word).
_JOINERS = r"and\s+also|and|also|plus|oh\s+and|and\s+then|then|as\s+well\s+as|or|&|\+|n"
# After a joining word, also an asked-for answer: "... and whether it is repeated", "and tell
# me if insurance covers it".
# Not "and if so, how much?": that is the same question.
_ASKED_AFTER_JOIN = r"(?:whether|if(?!\s+so\b)|tell\s+me|let\s+me\s+know|explain)"
# " and does it…", ", and is it…": a joining word where a question word follows.
_JOIN = re.compile(
    rf"(?:\s*[,;]\s*|\s+)(?:{_JOINERS})\s+(?=(?:{_QUESTION_START}|{_ASKED_AFTER_JOIN})\b)",
    re.IGNORECASE,
)
# ", how often…": a comma alone joins two questions only when the part before it is one too
# ("how many needles, how long?"), not a statement ("my daughter is 17, is she old enough?").
_COMMA = re.compile(rf"\s*[,;]\s*(?={_QUESTION_START}\b)", re.IGNORECASE)
# A request counts as a question before a comma: "I'd like to book, what happens at it?".
_STARTS_AS_QUESTION = re.compile(
    rf"^\W*(?:{_QUESTION_START}|i'?d\s+like|i\s+would\s+like|i\s+want|i\s+need|please)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[?？!])\s*|(?<=\.)\s+(?=[A-Za-z])|\n+")
# The items of a list written on one line: "1) ... 2) ...", "- who can get it - how do I book".
# Only when there are two or more: "(he's 17) to his first consult" and "the mechanism - is
# it the muscles?" are not lists.
_NUMBERED_ITEM = re.compile(r"(?:^|\s+)\d{1,2}[.)]\s+(?=[A-Za-z])")
_DASHED_ITEM = re.compile(r"(?:^|\s+)[-•*]\s+(?=\w)")
_WORD = re.compile(r"\w+")


def split_questions(text: str) -> list[str]:
    """The sentences and joined questions of ``text`` in order, at most ``MAX_PARTS``; one part
    when it is one question. Parts of fewer than two words are joined to the part before."""
    parts: list[str] = []
    for sentence in _SENTENCE.split(_list_items_on_lines(text or "")):
        for piece in (p for joined in _JOIN.split(sentence) for p in _comma_split(joined)):
            piece = piece.strip(" ,;.")
            if not piece:
                continue
            if parts and len(_WORD.findall(piece)) < 2:
                parts[-1] = f"{parts[-1]} {piece}"
            else:
                parts.append(piece)
    if len(parts) > MAX_PARTS:
        parts = parts[: MAX_PARTS - 1] + [" ".join(parts[MAX_PARTS - 1 :])]
    return parts or [text]


def _list_items_on_lines(text: str) -> str:
    for item in (_NUMBERED_ITEM, _DASHED_ITEM):
        if len(item.findall(text)) >= 2:
            text = item.sub("\n", text)
    return text


def _comma_split(text: str) -> list[str]:
    pieces: list[str] = []
    for piece in _COMMA.split(text):
        if pieces and not _STARTS_AS_QUESTION.match(pieces[-1]):
            pieces[-1] = f"{pieces[-1]}, {piece}"
        else:
            pieces.append(piece)
    return pieces
