"""Finds red-flag reports and personal clinical context in a message, clause by clause.

No pretrained spaCy pipeline can be downloaded here, so this is ``spacy.blank("en")`` with the
lookup lemmatizer and Matcher patterns compiled from ``data/safety/`` on the lowercased,
accent-free text. The message is cut into clauses (sentences, then ``,`` ``;`` and words such as
*but* / *pero*) and each match is judged in its own clause: negation (negspacy's NegEx, with the
clinical termset and the cue words of ``cues.yml``) never reaches across a clause, general or
hypothetical framing never across a sentence. Who and when (first or third person, "since
yesterday") count for the whole message. The rules lean towards a person: a false alarm costs a
phone call, a miss could cost a life.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from bot.safety.anchored_matcher import AnchoredMatcher
from bot.safety.spec import (
    SAFETY_DIR,
    Cues,
    SafetySpec,
    compile_pattern,
    compile_phrase,
    fold,
    load_spec,
)

NEGEX_EXTENSION = "negex"
_SENTENCE_END = {".", "?", "!", "\n", "\n\n", "。", "？", "！", "؟"}
_CLAUSE_PUNCT = {",", ";", ":", "—", "–", "...", "…", "(", ")", "，", "、", "；", "：", "،", "؛"}
# Chinese and Arabic punctuation inside unspaced text: spaced out so that it ends a sentence or a
# clause like "." and "," do (a cue in one sentence must not judge the next).
_UNSPACED_PUNCT = re.compile("([。？！，、；：،؛؟])")
# NegEx's clinical termset counts these as negations; for patients they are the symptom itself
# ("can't swallow"), found by the patterns.
_NOT_NEGATIONS = ["cannot", "can't", "cant", "couldn't", "couldnt"]
# "not sure if ...", "don't want to bother you": a negation that negates nothing medical.
_PSEUDO_NEGATIONS = [
    "not sure", "not sure if", "don't know", "dont know", "do n't know", "no idea",
    "not certain", "don't want to bother", "dont want to bother", "not to bother",
    "don't mean to", "dont mean to", "not trying to", "no big deal", "not a big deal",
    "no rush", "not urgent", "no sé", "no se si", "nao sei", "je ne sais pas", "weiss nicht",
]  # fmt: skip


@dataclass(frozen=True)
class SafetyMatch:
    """A fired rule: which rule (category), on which words, in which clause."""

    rule: str
    phrase: str
    start_char: int
    end_char: int
    clause: str = ""


def build_nlp() -> Language:
    """A blank English pipeline with the lookup lemmatizer; clauses are cut by :func:`_clauses`."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class SafetyDetector:
    """Red-flag reports (``urgent``) and personal clinical context (``clinical``)."""

    def __init__(self, nlp: Language | None = None, spec: SafetySpec | None = None) -> None:
        self.nlp = nlp or build_nlp()
        self.spec = spec or load_spec(SAFETY_DIR)
        cues = self.spec.cues
        # Only the patterns whose required word the message holds are tried (13x faster).
        self._urgent = AnchoredMatcher(self.nlp.vocab)
        self._required = Matcher(self.nlp.vocab)
        self._requirements: dict[str, int] = {}  # pattern key -> how many "&" parts it needs
        for category in self.spec.categories.values():
            for language, patterns in category.patterns.items():
                for index, text in enumerate(patterns):
                    key = f"{category.id}|{language}|{index}"
                    main, requirements = compile_pattern(text, cues.macros)
                    self._urgent.add(key, [main])
                    self._requirements[key] = len(requirements)
                    for number, alternatives in enumerate(requirements):
                        self._required.add(f"{key}|{number}", alternatives)
        self._substring_starts: dict[str, set[int]] = {}
        for index, (_, phrase) in enumerate(self.spec.substrings):
            self._substring_starts.setdefault(phrase[:1], set()).add(index)
        self._no_symptoms = Matcher(self.nlp.vocab)
        self._no_symptoms.add(
            "no symptoms", [compile_phrase(p, cues.macros) for p in cues.no_symptoms]
        )
        self._clinical = Matcher(self.nlp.vocab)
        self._clinical_needs_person: dict[str, bool] = {}
        self._clinical_last = {rule.name: rule.last for rule in self.spec.clinical}
        for rule in self.spec.clinical:
            compiled = [compile_phrase(p, self.spec.clinical_macros) for p in rule.patterns]
            self._clinical.add(rule.name, compiled)
            self._clinical_needs_person[rule.name] = rule.needs_person
        self._negex = _build_negex(self.nlp, sorted(cues.negation))

    @classmethod
    def from_directory(cls, directory: Path) -> SafetyDetector:
        return cls(spec=load_spec(directory))

    def parse(self, text: str) -> Doc:
        """The message as the rules see it: folded, with clause and sentence boundaries."""
        folded = _UNSPACED_PUNCT.sub(r" \1 ", fold(text)).rstrip()
        if folded and folded[-1] not in _SENTENCE_END:
            # The end of a message ends its last sentence: patterns that need a full stop
            # ("... not be here much longer .") also hold when the patient wrote none.
            folded += " ."
        doc = self.nlp(folded)
        _mark_clauses(doc, self.spec.cues)
        return doc

    def urgent(self, text: str | Doc) -> SafetyMatch | None:
        """The first red-flag sign the writer reports for themselves or someone else, if any."""
        return next(iter(self.urgent_all(text)), None)

    def urgent_all(self, text: str | Doc) -> list[SafetyMatch]:
        """Every red-flag sign reported in the message, earliest first."""
        doc = self.parse(text) if isinstance(text, str) else doc_or_raise(text)
        return list(self._reported(doc))

    def mentions(self, text: str | Doc) -> bool:
        """Whether any red-flag words occur at all, reported or not ("no trouble breathing",
        "can it cause a stroke?"): the rules have judged such a message, not missed it."""
        doc = self.parse(text) if isinstance(text, str) else doc_or_raise(text)
        return bool(self._candidates(doc))

    def _reported(self, doc: Doc) -> Iterable[SafetyMatch]:
        candidates = self._candidates(doc)
        if not candidates:
            return
        personal = self._cue(doc[:], "first_person", "other_person")
        report = self._cue(doc[:], "report")
        says_no_symptoms = bool(self._no_symptoms(doc))
        negated = self._negated(doc, candidates)
        for span in candidates:
            category = self.spec.categories[span.label_]
            clause = span.sent
            sentence = _sentence_of(doc, span)
            general = self._general(clause) or (
                _asks(sentence) and self._cue(sentence, "question_general", "general")
            )
            if category.negation_proof:
                # "I don't want to live" is the sign itself, never negated; only a general
                # question with nobody in it ("can botox cause suicidal thoughts?") is not one.
                # Judged on whole words only: a cue found inside words is too weak to silence it.
                general = self._general(clause, inside=False) or (
                    _asks(sentence) and self._cue(sentence, "question_general", inside=False)
                )
                if not (general and not self._personal(clause)):
                    yield _to_match(span)
                continue
            if says_no_symptoms or span in negated or self._fine_after(span):
                continue
            if self._cue(clause, "hearsay"):
                continue
            now = self._now(sentence)
            if self._history(clause) or (not now and self._history(sentence)):
                continue  # "my dad had a stroke years ago"
            own_or_reported = personal or report
            if (own_or_reported or not general) if now else (own_or_reported and not general):
                yield _to_match(span)

    def clinical(self, text: str | Doc) -> SafetyMatch | None:
        """The first sign that the writer asks about their own medicines, conditions or doses."""
        doc = self.parse(text) if isinstance(text, str) else doc_or_raise(text)
        has_person = self._cue(doc[:], "first_person", "other_person")
        # Earliest first; the least specific reasons (``last: true``) only when nothing else.
        spans = _earliest(self._clinical(doc, as_spans=True))
        spans.sort(key=lambda s: self._clinical_last[s.label_])
        for span in spans:
            if self._clinical_needs_person[span.label_] and not has_person:
                continue
            before = doc[max(0, span.start - 3) : span.start].text.lower()
            after = doc[span.end : span.end + 1].text.lower()
            if "list of" in before or after in ("overuse", "list"):
                # "bring a list of my meds" or "my medicine list", "medication overuse
                # headache": not advice
                continue
            if span.label_ == "own symptom" and self._general(span.sent):
                continue  # "will i bruise?": a general question about what may happen
            return _to_match(span)
        return None

    # --- helpers ------------------------------------------------------------------------
    def _candidates(self, doc: Doc) -> list[Span]:
        """Pattern matches whose ``&`` requirements hold (computed once per doc)."""
        if "candidates" not in doc.user_data:
            doc.user_data["candidates"] = self._find_candidates(doc)
        return doc.user_data["candidates"]

    def _find_candidates(self, doc: Doc) -> list[Span]:
        have: dict[str, set[str]] = {}
        for match_id, start, _ in self._required(doc):
            if self._negated_before(doc, start):
                continue  # "stiff neck, no fever": the requirement is said to be absent
            key, number = self.nlp.vocab.strings[match_id].rsplit("|", 1)
            have.setdefault(key, set()).add(number)
        spans = []
        text = doc.text  # built anew on every access
        negations = self.spec.cues.inside_words.get("negation", ())
        for category, phrase in self._substrings_in(text):
            at = text.find(phrase)
            if at >= 0:
                before = text[max(0, at - 3) : at]
                if (
                    any(before.endswith(n) for n in negations)
                    and not before.endswith("有没有")  # "whether": "他有没有中风?"
                    and not self.spec.categories[category].negation_proof
                ):
                    continue  # "没有吞咽困难": said to be absent, in a script without spaces
                span = doc.char_span(at, at + len(phrase), label=category, alignment_mode="expand")
                if span is not None:
                    spans.append(span)
        for match_id, start, end in self._urgent(doc):
            key = self.nlp.vocab.strings[match_id]
            if len(have.get(key, ())) < self._requirements[key]:
                continue
            spans.append(Span(doc, start, end, label=key.split("|", 1)[0]))
        return _earliest(spans)

    def _substrings_in(self, text: str) -> list[tuple[str, str]]:
        """The (category, phrase) pairs of ``spec.substrings`` whose first character ``text``
        holds, in their order: most messages hold no Chinese or Arabic character at all."""
        present = set(text) & self._substring_starts.keys()
        if not present:
            return []
        wanted = set().union(*(self._substring_starts[c] for c in present))
        return [pair for index, pair in enumerate(self.spec.substrings) if index in wanted]

    def _negated(self, doc: Doc, candidates: list[Span]) -> set[Span]:
        """Candidates NegEx finds negated within their clause."""
        doc.ents = filter_spans(candidates)
        self._negex(doc)
        negated = {(e.start, e.end) for e in doc.ents if e._.get(NEGEX_EXTENSION)}
        # A shorter candidate inside a negated entity is negated with it.
        return {
            s
            for s in candidates
            if any(a <= s.start and s.end <= b for a, b in negated) or (s.start, s.end) in negated
        }

    def _negated_before(self, doc: Doc, start: int) -> bool:
        """A negation word at most three words before ``start``, in the same clause."""
        for i in range(start - 1, max(-1, start - 4), -1):
            if doc[i].lower_ in self.spec.cues.negation:
                return True
            if doc[i].is_sent_start:
                break
        return False

    def _fine_after(self, span: Span) -> bool:
        """ "breathing is fine", "swallowing ok": said to be normal right after, same clause."""
        doc = span.doc
        if span[0].lower_ in self.spec.cues.negation or span[0].lower_ in self.spec.cues.ability:
            return False  # "no puedo tragar bien", "can't swallow well": the symptom itself
        for i in range(span.end, min(span.sent.end, span.end + 3)):
            if doc[i].lower_ in self.spec.cues.fine:
                return True
        return False

    def _cue(self, span: Span, *names: str, inside: bool = True) -> bool:
        """Whether a word of the cue lists ``names`` is in ``span`` (or, for Chinese and
        Arabic, one of their ``inside_words`` is inside its text)."""
        cues = self.spec.cues
        if any(t.lower_ in getattr(cues, name) for t in span for name in names):
            return True
        if not inside:
            return False
        words = [w for name in names for w in cues.inside_words.get(name, ())]
        return any(w in span.text for w in words)

    def _history(self, span: Span) -> bool:
        """Whether ``span`` tells a story from the past ("years ago", "since childhood"); an
        age ("I'm 45 years old", "tengo 30 anos") is not one."""
        cues = self.spec.cues
        if any(w in span.text for w in cues.inside_words.get("history", ())):
            return True
        doc = span.doc
        for token in span:
            if token.lower_ not in cues.history:
                continue
            after = {t.lower_ for t in doc[token.i + 1 : token.i + 3]}
            before = doc[max(0, token.i - 2) : token.i]
            is_age = bool(after & cues.age_after) or (
                len(before) == 2 and before[1].like_num and before[0].lower_ in cues.age_before
            )
            if not is_age:
                return True
        return False

    def _personal(self, span: Span) -> bool:
        return self._cue(span, "first_person", "other_person")

    def _now(self, sentence: Span) -> bool:
        words = [t.lower_ for t in sentence]
        cues = self.spec.cues
        return any(
            w in cues.now and not (w == "ago" and i > 0 and words[i - 1] in cues.distant)
            for i, w in enumerate(words)
        ) or any(w in sentence.text for w in cues.inside_words.get("now", ()))

    def _general(self, clause: Span, inside: bool = True) -> bool:
        words = [t.lower_ for t in clause]
        cues = self.spec.cues

        def unable(i: int) -> bool:
            # "can't"/"cannot", "no puede", "kan niet": a report of inability, not "can botox
            # cause ...".
            after = words[i + 1] if i + 1 < len(words) else ""
            before = words[i - 1] if i > 0 else ""
            return after in {"n't", "not", "nt"} or (
                words[i] in cues.ability and (before in cues.negation or after in cues.negation)
            )

        return any(w in cues.general and not unable(i) for i, w in enumerate(words)) or (
            inside and any(w in clause.text for w in self.spec.cues.inside_words.get("general", ()))
        )


def _asks(sentence: Span) -> bool:
    return any(mark in sentence.text for mark in ("?", "\uff1f", "\u061f"))  # ? ？ ؟


def _build_negex(nlp: Language, extra_negations: list[str]):  # noqa: ANN202 - negspacy's type
    from negspacy.negation import Negex
    from negspacy.termsets import termset

    terms = termset("en_clinical")
    # Following negations ("... wasn't responding") mislead on patients' words; "fine" after a
    # symptom is checked by the detector itself, within two words.
    terms.remove_patterns(
        {
            "preceding_negations": _NOT_NEGATIONS,
            "following_negations": terms.get_patterns()["following_negations"],
        }
    )
    patterns = terms.get_patterns()
    terms.add_patterns(
        {
            "preceding_negations": [
                n for n in extra_negations if n not in patterns["preceding_negations"]
            ],
            "pseudo_negations": [fold(p) for p in _PSEUDO_NEGATIONS],
        }
    )
    if not Span.has_extension(NEGEX_EXTENSION):
        Span.set_extension(NEGEX_EXTENSION, default=False)
    return Negex(nlp, "negex", terms.get_patterns(), [], NEGEX_EXTENSION, [])


def _mark_clauses(doc: Doc, cues: Cues) -> None:
    """Sentence starts at every clause boundary (NegEx scopes negation to a "sentence"), and
    the true sentence number of each token in ``doc.user_data``."""
    breaks = cues.clause_breaks
    sentence, sentences = 0, []
    for i, token in enumerate(doc):
        if i == 0:
            token.is_sent_start = True
        else:
            previous = doc[i - 1]
            ends_sentence = previous.text in _SENTENCE_END or previous.text.endswith("\n")
            token.is_sent_start = (
                ends_sentence
                or previous.text in _CLAUSE_PUNCT
                or (
                    token.lower_ in breaks
                    and not previous.is_punct
                    and not any(
                        t.lower_ in cues.anymore.get(token.lower_, ())
                        for t in doc[max(0, i - 2) : i]
                    )
                )
                or (
                    token.lower_ in cues.joins
                    and any(t.lower_ in cues.now for t in doc[i + 1 : i + 3])
                )
                or token.is_space
            )
            if ends_sentence or token.is_space:
                sentence += 1
        sentences.append(sentence)
    doc.user_data["sentence_of"] = sentences


def _sentence_of(doc: Doc, span: Span) -> Span:
    ids = doc.user_data["sentence_of"]
    number = ids[span.start]
    start = span.start
    while start > 0 and ids[start - 1] == number:
        start -= 1
    end = span.end
    while end < len(doc) and ids[end] == number:
        end += 1
    return doc[start:end]


def _earliest(spans: Iterable[Span]) -> list[Span]:
    # Earliest first, then longest, so the reported phrase is the most telling one.
    return sorted(spans, key=lambda s: (s.start, -(s.end - s.start)))


def doc_or_raise(doc: Doc) -> Doc:
    if not isinstance(doc, Doc):
        raise TypeError(f"expected text or a spaCy Doc, got {type(doc).__name__}")
    return doc


def _to_match(span: Span) -> SafetyMatch:
    return SafetyMatch(span.label_, span.text, span.start_char, span.end_char, span.sent.text)
