"""The red-flag specification in ``data/safety/``, loaded and compiled for spaCy's Matcher.

Categories, their replies, patterns and examples are data a clinician reviews (see
``data/safety/README.md`` for the pattern notation); this module only reads and compiles them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT
from bot.yaml_files import read_yaml

SAFETY_DIR = PROJECT_ROOT / "data" / "safety"
PLACEHOLDER = "PLACEHOLDER"
GAP = "..."  # up to four words in between
GAP_WORDS = 4
_NON_LATIN = re.compile(r"[^\x00-\u024f]")


# Every English way of saying "not able to", as one word for the patterns.
_CANNOT = re.compile(
    r"\b(?:can ?not|can'?t|could ?n'?t|could not|unable to|won'?t be able to|not able to|"
    r"wo n't|won'?t|will not|can no longer|could no longer|no longer able to)\b"
)


# French and Italian elided articles and pronouns ("l'orticaria", "j'ai", "un'esplosione"):
# spaCy keeps them one word, so "orticaria" would never be found. Written as two words; not
# the English "n't" of the patterns (two letters must follow).
_ELISION = re.compile(
    r"\b(l|d|j|c|s|n|m|t|qu|un|dell|all|dall|nell|sull|coll|quell|quest|nessun|tutt)'(?=[a-z]{2})"
)


def fold(text: str) -> str:
    """Lowercase, accents removed, phone apostrophes made plain, French and Italian elisions
    split ("l'orticaria" -> "l orticaria"), every "can't" written "unable" (spaCy would split
    "cannot"): how patterns see a message."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    decomposed = unicodedata.normalize("NFD", text)
    text = unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )
    return _CANNOT.sub("unable", _ELISION.sub(r"\1 ", text))


@dataclass(frozen=True)
class Category:
    """One kind of emergency: what it is, how it is found, what it gets."""

    id: str
    title: str
    description: str
    reply: str  # a key of messages.yml: urgent, crisis or poison
    patterns: dict[str, list[str]]  # language -> patterns in the notation
    must_fire: list[str] = field(default_factory=list)
    must_not_fire: list[str] = field(default_factory=list)
    negation_proof: bool = False  # "I don't want to live" is the sign itself
    reviewer: str = ""
    reviewed_on: str | None = None

    @property
    def signed(self) -> bool:
        return bool(self.reviewer) and PLACEHOLDER not in self.reviewer and bool(self.reviewed_on)


# The word lists of cues.yml, each a field of Cues.
WORD_LISTS = (
    "negation", "ability", "fine", "clause_breaks", "first_person", "other_person", "now",
    "report", "distant", "general", "question_general", "hearsay", "history", "age_after",
    "age_before", "joins",
)  # fmt: skip


@dataclass(frozen=True)
class Cues:
    """Word lists that scope a pattern match (``data/safety/cues.yml``)."""

    macros: dict[str, str]
    negation: frozenset[str]
    ability: frozenset[str]
    fine: frozenset[str]
    clause_breaks: frozenset[str]
    first_person: frozenset[str]
    other_person: frozenset[str]
    now: frozenset[str]
    report: frozenset[str]
    distant: frozenset[str]
    general: frozenset[str]
    question_general: frozenset[str]
    hearsay: frozenset[str]
    history: frozenset[str]
    age_after: frozenset[str]
    age_before: frozenset[str]
    joins: frozenset[str]
    no_symptoms: list[str]
    signed: bool
    # Cue name -> folded substrings found inside words: Chinese has no spaces and Arabic joins
    # pronouns to words ("عندي", "I have"), so their cues cannot be whole words.
    inside_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Break word -> the negations after which it means "anymore" ("je ne peux plus avaler").
    anymore: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ClinicalRule:
    """One kind of personal clinical context (``data/safety/clinical.yml``)."""

    name: str
    needs_person: bool  # only with a first- or third-person word in the message
    patterns: tuple[str, ...]
    last: bool = False  # the least specific reasons: named only when nothing else matched


@dataclass(frozen=True)
class SafetySpec:
    categories: dict[str, Category]
    cues: Cues
    # (category, folded phrase) found as substrings: Chinese and Arabic phrases.
    substrings: tuple[tuple[str, str], ...] = ()
    clinical: tuple[ClinicalRule, ...] = ()
    # The macros of cues.yml plus clinical.yml's word lists (``@medicines``: any one of them).
    clinical_macros: dict[str, str] = field(default_factory=dict)
    clinical_signed: bool = False

    def unsigned(self) -> list[str]:
        """Categories (and the cue lists, the clinical rules) no clinician has signed yet."""
        names = [c.id for c in self.categories.values() if not c.signed]
        names += [] if self.cues.signed else ["cues"]
        return names + ([] if self.clinical_signed or not self.clinical else ["clinical"])


def _signed(review: dict[str, Any] | None) -> tuple[str, str | None]:
    review = review or {}
    reviewed_on = review.get("reviewed_on")
    if reviewed_on in ("null", "~", ""):
        reviewed_on = None
    return str(review.get("reviewer") or ""), str(reviewed_on) if reviewed_on else None


def load_category(path: Path) -> Category:
    raw = read_yaml(path)
    reviewer, reviewed_on = _signed(raw.get("review"))
    patterns = {str(k): [str(p) for p in v or []] for k, v in (raw.get("patterns") or {}).items()}
    return Category(
        id=raw["id"],
        title=raw["title"],
        description=" ".join(str(raw["description"]).split()),
        reply=raw.get("reply", "urgent"),
        patterns=patterns,
        must_fire=[str(t) for t in raw.get("must_fire") or []],
        must_not_fire=[str(t) for t in raw.get("must_not_fire") or []],
        negation_proof=bool(raw.get("negation_proof", False)),
        reviewer=reviewer,
        reviewed_on=reviewed_on,
    )


def _words(raw: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(fold(str(w)) for w in raw.get(key) or [])


@lru_cache(maxsize=4)
def load_spec(directory: Path = SAFETY_DIR) -> SafetySpec:
    """Every category of ``directory/categories`` with the cues and the multilingual phrases."""
    categories = {}
    for path in sorted((directory / "categories").glob("*.yml")):
        category = load_category(path)
        if category.id in categories:
            raise ValueError(f"red-flag category {category.id!r} is defined twice")
        categories[category.id] = category
    phrases_path = directory / "phrases.yml"
    substrings: list[tuple[str, str]] = []
    if phrases_path.exists():
        phrases = read_yaml(phrases_path) or {}
        for name, by_language in (phrases.get("red_flag_phrases") or {}).items():
            if name not in categories:
                raise ValueError(f"phrases.yml names an unknown category {name!r}")
            for language, items in (by_language or {}).items():
                for phrase in (str(p).strip() for p in items or []):
                    if not phrase:
                        continue
                    if _NON_LATIN.search(phrase):
                        # Scripts without spaces (Chinese) or with attached particles (Arabic):
                        # found inside the text, not word by word.
                        substrings.append((name, fold(phrase)))
                    else:
                        categories[name].patterns.setdefault(f"phrases-{language}", []).append(
                            phrase_pattern(phrase)
                        )
    # BaseLoader: every word stays a string (YAML 1.1 would read "no" and "on" as booleans).
    raw = yaml.load((directory / "cues.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    reviewer, reviewed_on = _signed(raw.get("review"))
    cues = Cues(
        macros={str(k): str(v) for k, v in (raw.get("macros") or {}).items()},
        **{name: _words(raw, name) for name in WORD_LISTS},
        no_symptoms=[str(p) for p in raw.get("no_symptoms") or []],
        signed=bool(reviewer) and PLACEHOLDER not in reviewer and bool(reviewed_on),
        inside_words=_inside_words(raw),
        anymore={str(k): frozenset(map(str, v)) for k, v in (raw.get("anymore") or {}).items()},
    )
    clinical, macros, clinical_signed = _load_clinical(directory / "clinical.yml", cues.macros)
    return SafetySpec(categories, cues, tuple(substrings), clinical, macros, clinical_signed)


def _inside_words(raw: dict) -> dict[str, tuple[str, ...]]:
    inside = raw.get("inside_words") or {}
    unknown = set(inside) - set(WORD_LISTS)
    if unknown:
        raise ValueError(f"cues.yml inside_words: unknown cue lists {sorted(unknown)}")
    return {str(k): tuple(fold(str(w)) for w in v) for k, v in inside.items()}


def _load_clinical(
    path: Path, macros: dict[str, str]
) -> tuple[tuple[ClinicalRule, ...], dict[str, str], bool]:
    if not path.exists():
        return (), dict(macros), False
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    reviewer, reviewed_on = _signed(raw.get("review"))
    lists = {str(k): "|".join(fold(str(w)) for w in v) for k, v in raw["word_lists"].items()}
    rules = tuple(
        ClinicalRule(
            name=str(rule["name"]),
            needs_person=str(rule.get("needs_person", "true")).lower() == "true",
            patterns=tuple(str(p) for p in rule["patterns"]),
            last=str(rule.get("last", "false")).lower() == "true",
        )
        for rule in raw["rules"]
    )
    signed = bool(reviewer) and PLACEHOLDER not in reviewer and bool(reviewed_on)
    return rules, {**macros, **lists}, signed


def phrase_pattern(phrase: str) -> str:
    """A plain phrase from ``phrases.yml`` in the notation: its words, literally."""
    return " ".join(re.sub(r"[|?*#@]", "", w) or w for w in fold(phrase).split())


# --- the notation -> spaCy Matcher token patterns ----------------------------------------
def _token(word: str) -> dict[str, Any]:
    optional = word.startswith("?") and len(word) > 1
    word = word[1:] if optional else word
    if word == "#":
        token: dict[str, Any] = {"LIKE_NUM": True}
    else:
        exact, regexes = [], []
        for alternative in word.split("|"):
            if alternative.startswith("\\") and len(alternative) > 1:
                exact.append(alternative[1:])  # "\?": a literal question mark
            elif len(alternative) > 2 and alternative.startswith("*") and alternative.endswith("*"):
                regexes.append(re.escape(alternative[1:-1]))
            elif alternative.endswith("*") and len(alternative) > 1:
                regexes.append("^" + re.escape(alternative[:-1]))
            elif alternative == "#":
                regexes.append(r"^\d+$")
            else:
                exact.append(alternative)
        if regexes:
            alternation = "|".join(regexes + [f"^{re.escape(e)}$" for e in exact])
            token = {"LOWER": {"REGEX": f"(?:{alternation})"}}
        elif len(exact) == 1:
            token = {"LOWER": exact[0]}
        else:
            token = {"LOWER": {"IN": exact}}
    if optional:
        token["OP"] = "?"
    return token


def _expand(words: list[str], macros: dict[str, str], depth: int = 0) -> list[str]:
    out: list[str] = []
    for word in words:
        if word.startswith("@") and len(word) > 1:
            if word[1:] not in macros or depth > 3:
                raise ValueError(f"unknown macro {word!r} in a safety pattern")
            out += _expand(fold(macros[word[1:]]).split(), macros, depth + 1)
        else:
            out.append(word)
    return out


def compile_phrase(text: str, macros: dict[str, str]) -> list[dict[str, Any]]:
    """One phrase of the notation as one Matcher pattern."""
    pattern: list[dict[str, Any]] = []
    for word in _expand(fold(text).split(), macros):
        if word == GAP:
            pattern += [{"OP": "?", "IS_PUNCT": False} for _ in range(GAP_WORDS)]
        else:
            pattern.append(_token(word))
    if not pattern or all(t.get("OP") == "?" for t in pattern):
        raise ValueError(f"safety pattern {text!r} matches nothing in particular")
    return pattern


def compile_pattern(
    text: str, macros: dict[str, str]
) -> tuple[list[dict[str, Any]], list[list[list[dict[str, Any]]]]]:
    """``main & alt1, alt2 & ...``: the main phrase, and for each ``&`` a set of alternative
    phrases one of which must also appear somewhere in the message."""
    main, *requirements = (part.strip() for part in text.split(" & "))
    return compile_phrase(main, macros), [
        [compile_phrase(p.strip(), macros) for p in requirement.split(",") if p.strip()]
        for requirement in requirements
    ]
