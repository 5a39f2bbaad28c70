"""A spaCy ``Matcher`` that only tries the patterns a message could match.

spaCy's Matcher tries every pattern at every token: with the 1,609 red-flag patterns that cost
about 70 microseconds a token, 1.5 ms for an ordinary two-sentence question, most of the safety
layer's time. Every pattern here has one required token (its *anchor*: the most selective token
that is not optional), and a pattern can only match a message that holds its anchor's word,
word start or piece of a word. So the patterns are grouped by anchor, one small Matcher each,
and a message runs only the groups whose anchor it holds. The matches are exactly those of one
Matcher holding every pattern (the tests compare the two on every safety example); a pattern
without an anchor (only optional tokens, or predicates that are not words) is always tried.
"""

from __future__ import annotations

import re
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

Anchor = tuple[frozenset[str], frozenset[str], frozenset[str]]  # words, word starts, pieces
_ESCAPED = re.compile(r"\\(.)")


def anchor_of(token: dict[str, Any]) -> Anchor | None:
    """What a token pattern needs in a message's lowercased words, or None when it cannot be
    said (optional, or not a ``LOWER`` word test)."""
    if "OP" in token or set(token) != {"LOWER"}:
        return None
    value = token["LOWER"]
    if isinstance(value, str):
        return frozenset([value]), frozenset(), frozenset()
    if set(value) == {"IN"}:
        return frozenset(value["IN"]), frozenset(), frozenset()
    if set(value) == {"REGEX"}:
        return _regex_anchor(value["REGEX"])
    return None


def _regex_anchor(regex: str) -> Anchor | None:
    """The alternation ``bot.safety.spec`` writes: ``^word$``, ``^start`` and ``piece``."""
    if not (regex.startswith("(?:") and regex.endswith(")")):
        return None
    words, starts, pieces = set(), set(), set()
    for part in regex[3:-1].split("|"):
        exact = part.startswith("^") and part.endswith("$") and not part.endswith("\\$")
        body = part[1:-1] if exact else part[1:] if part.startswith("^") else part
        if not body or re.search(r"\\[^\W_]|[\^$.*+?()\[\]{}|]", _ESCAPED.sub("", body)):
            return None  # a character class, a number test: not a plain string
        literal = _ESCAPED.sub(r"\1", body)
        if exact:
            words.add(literal)
        elif part.startswith("^"):
            starts.add(literal)
        else:
            pieces.add(literal)
    return frozenset(words), frozenset(starts), frozenset(pieces)


def _selectivity(anchor: Anchor) -> float:
    """Higher for anchors rarer in messages: long, specific strings, few alternatives."""
    words, starts, pieces = anchor
    alternatives = [*words, *starts, *pieces]
    shortest = min(len(a) for a in alternatives)
    common = sum(1 for w in words if w in STOP_WORDS or len(w) <= 2)
    return shortest - 0.05 * len(alternatives) - 3.0 * common - 1.0 * len(starts and pieces)


class AnchoredMatcher:
    """``add`` and ``__call__`` like spaCy's Matcher (match ids, start, end; as spans)."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self._groups: dict[Anchor, Matcher] = {}
        self._always: Matcher | None = None
        self._by_word: dict[str, set[Anchor]] = {}
        self._by_start: dict[str, set[Anchor]] = {}
        self._by_piece: dict[str, set[Anchor]] = {}
        self._start_lengths: set[int] = set()
        self._keys: dict[int, int] = {}  # match id -> order of first addition
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, key: str, patterns: list[list[dict[str, Any]]]) -> None:
        match_id = self.vocab.strings.add(key)
        self._keys.setdefault(match_id, len(self._keys))
        for pattern in patterns:
            anchors = [a for a in map(anchor_of, pattern) if a is not None]
            if not anchors:
                if self._always is None:
                    self._always = Matcher(self.vocab)
                self._always.add(key, [pattern])
            else:
                anchor = max(anchors, key=_selectivity)
                if anchor not in self._groups:
                    self._groups[anchor] = Matcher(self.vocab)
                    self._index(anchor)
                self._groups[anchor].add(key, [pattern])
            self._count += 1

    def _index(self, anchor: Anchor) -> None:
        words, starts, pieces = anchor
        for word in words:
            self._by_word.setdefault(word, set()).add(anchor)
        for start in starts:
            self._by_start.setdefault(start, set()).add(anchor)
            self._start_lengths.add(len(start))
        for piece in pieces:
            self._by_piece.setdefault(piece, set()).add(anchor)

    def candidates(self, doc: Doc) -> list[Matcher]:
        """The groups whose anchor ``doc`` holds (in no particular order: ``__call__`` sorts)."""
        lowers = {token.lower_ for token in doc}
        found: set[Anchor] = set()
        for word in lowers:
            found |= self._by_word.get(word, set())
            for length in self._start_lengths:
                if length <= len(word):
                    found |= self._by_start.get(word[:length], set())
        if self._by_piece:
            text = " ".join(lowers)
            for piece, anchors in self._by_piece.items():
                if piece in text:
                    found |= anchors
        groups = [self._groups[anchor] for anchor in found]
        return groups + ([self._always] if self._always is not None else [])

    def __call__(self, doc: Doc, as_spans: bool = False) -> list[Any]:
        matches: set[tuple[int, int, int]] = set()
        for matcher in self.candidates(doc):
            matches.update(matcher(doc))
        # One order for all: earliest, then longest, then the order the keys were added.
        ordered = sorted(matches, key=lambda m: (m[1], m[1] - m[2], self._keys[m[0]]))
        if as_spans:
            from spacy.tokens import Span

            return [Span(doc, start, end, label=match_id) for match_id, start, end in ordered]
        return ordered

