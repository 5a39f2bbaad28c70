"""Deterministic safety rules on spaCy: red-flag symptom reports and personal clinical context.

No pretrained spaCy pipeline can be downloaded here, so this is ``spacy.blank("en")`` with the
lookup lemmatizer from ``spacy-lookups-data`` and Matcher patterns on lowercase text and lemmas.
The rules are deliberately biased towards a person: a false alarm costs a phone call, a miss
could cost a life.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

# --- red-flag symptoms: (rule name, Matcher patterns) -------------------------------------
_SWALLOW = {"LEMMA": {"IN": ["swallow", "swallowing", "swollow", "swallo"]}}
_BREATHE = {"LEMMA": {"IN": ["breathe", "breath", "breathing", "breating", "breath"]}}
_BODY_SWELL = {"LOWER": {"IN": ["face", "lips", "lip", "tongue", "throat", "mouth", "eyes", "eye"]}}
_GAP = {"OP": "?", "IS_PUNCT": False}  # one optional word; three in a row make a short gap
_ABLE_NOT = [
    {
        "LOWER": {
            "IN": ["ca", "can", "cannot", "cant", "could", "unable", "wo", "struggle", "struggling"]
        }
    },
    {"LOWER": {"IN": ["n't", "nt", "not", "to"]}, "OP": "?"},
]
_DIFFICULTY = {
    "LOWER": {
        "IN": [
            "trouble",
            "difficulty",
            "difficult",
            "hard",
            "struggle",
            "struggling",
            "problem",
            "problems",
            "issues",
        ]
    }
}
URGENT_PATTERNS: dict[str, list[list[dict]]] = {
    "trouble swallowing": [
        [_SWALLOW],
        [{"LOWER": "food"}, {"LOWER": {"IN": ["gets", "getting", "keeps"]}}, {"LOWER": "stuck"}],
        [{"LEMMA": "choke"}],
        [{"LOWER": "stuck"}, _GAP, _GAP, {"LOWER": "throat"}],
    ],
    "trouble breathing": [
        [_BREATHE],
        [{"LOWER": "short"}, {"LOWER": "of"}, {"LOWER": "breath"}],
        [{"LOWER": {"IN": ["breathless", "breathlessness", "suffocating"]}}],
        [{"LOWER": "air"}, {"LOWER": {"IN": ["hunger", "hungry"]}}],
    ],
    "trouble speaking": [
        [{"LOWER": {"IN": ["slurred", "slurring", "slurry", "slur"]}}],
        [{"LOWER": "speech"}],
        [_DIFFICULTY, _GAP, {"LOWER": {"IN": ["speak", "speaking", "talk", "talking"]}}],
        [*_ABLE_NOT, {"LOWER": {"IN": ["speak", "talk", "talking"]}}],
        [{"LOWER": "words"}, {"LOWER": {"IN": ["come", "coming"]}}, {"LOWER": "out"}],
        [{"LEMMA": {"IN": ["get", "find"]}}, _GAP, {"LOWER": "words"}, {"LOWER": "out"}],
    ],
    "vision problems": [
        [
            {"LOWER": {"IN": ["double", "blurry", "blurred", "blury", "blurring", "fuzzy"]}},
            {"LOWER": {"IN": ["vision", "visions", "eyesight", "sight"]}},
        ],
        [{"LEMMA": "see"}, {"LOWER": {"IN": ["double", "two", "everything"]}}],
        [{"LOWER": {"IN": ["vision", "eyesight"]}}],
        [{"LOWER": {"IN": ["blurry", "blurred", "blury", "blurring"]}}],
        [{"LOWER": "two"}, {"LOWER": "of"}, {"LOWER": "everything"}],
        [
            {"LOWER": {"IN": ["went", "gone", "go", "goes", "going", "looks", "looking"]}},
            {"LOWER": "double"},
        ],
        [{"LOWER": {"IN": ["eye", "eyes"]}}, _GAP, _GAP, _GAP, {"LEMMA": "focus"}],
    ],
    "drooping eyelid": [
        [
            {
                "LOWER": {
                    "IN": [
                        "droopy",
                        "drooping",
                        "droop",
                        "droops",
                        "drooped",
                        "ptosis",
                        "saggy",
                        "sagging",
                        "hooded",
                    ]
                }
            }
        ],
        [
            {"LOWER": {"IN": ["eyelid", "eyelids", "lid", "lids", "eye-lid"]}},
            {"OP": "*", "IS_PUNCT": False, "LOWER": {"NOT_IN": ["but", "and"]}},
            {
                "LEMMA": {
                    "IN": [
                        "fall",
                        "hang",
                        "close",
                        "shut",
                        "down",
                        "heavy",
                        "drop",
                        "dropped",
                        "falling",
                    ]
                }
            },
        ],
        [
            {"LOWER": {"IN": ["eye", "eyes"]}},
            _GAP,
            _GAP,
            {"LOWER": {"IN": ["falling", "fallen", "dropped", "dropping", "closing", "shutting"]}},
        ],
        [*_ABLE_NOT, {"LOWER": {"IN": ["open", "lift"]}}],
    ],
    "muscle weakness": [
        [
            {
                "LOWER": {
                    "IN": [
                        "weak",
                        "weakness",
                        "weaker",
                        "floppy",
                        "paralysed",
                        "paralyzed",
                        "paralysis",
                    ]
                }
            }
        ],
        [{"LEMMA": {"IN": ["give", "giving", "gave"]}}, {"LOWER": "way"}],
        [
            {"LOWER": {"IN": ["ca", "can", "cannot", "cant", "unable"]}},
            {"LOWER": {"IN": ["n't", "nt", "not", "to"]}, "OP": "?"},
            {"LOWER": {"IN": ["lift", "hold", "grip", "raise", "move", "walk", "stand"]}},
        ],
    ],
    "allergic reaction": [
        [
            {
                "LOWER": {
                    "IN": [
                        "anaphylaxis",
                        "anaphylactic",
                        "hives",
                        "wheezing",
                        "wheezy",
                        "wheeze",
                        "welts",
                        "welt",
                    ]
                }
            }
        ],
        [{"LOWER": "allergic"}, {"LOWER": {"IN": ["reaction", "reacting"]}}],
        [{"LEMMA": {"IN": ["puff", "puffing", "blow", "blown"]}}, {"LOWER": "up"}],
        [{"LOWER": {"IN": ["itching", "itchy", "hives"]}}, {"LOWER": "all"}, {"LOWER": "over"}],
        [
            {"LEMMA": {"IN": ["swell", "swelling", "swollen", "puffy"]}},
            {"OP": "*", "IS_PUNCT": False, "LOWER": {"NOT_IN": ["but", "and"]}},
            _BODY_SWELL,
        ],
        [
            _BODY_SWELL,
            _GAP,
            _GAP,
            _GAP,
            _GAP,
            {
                "LEMMA": {
                    "IN": [
                        "swell",
                        "swelling",
                        "swollen",
                        "puffy",
                        "tight",
                        "close",
                        "closing",
                        "huge",
                        "massive",
                    ]
                }
            },
        ],
        [{"LOWER": "rash"}, {"LOWER": "all"}, {"LOWER": "over"}],
    ],
    "worst sudden headache": [
        [
            {"LOWER": "worst"},
            _GAP,
            _GAP,
            _GAP,
            _GAP,
            {"LEMMA": {"IN": ["headache", "migraine", "pain", "life", "ever"]}},
        ],
        [{"LOWER": {"IN": ["thunderclap", "thunder"]}}],
        [
            {"LOWER": {"IN": ["sudden", "suddenly", "explosive", "exploding", "exploded"]}},
            _GAP,
            _GAP,
            {"LEMMA": {"IN": ["headache", "head", "pain"]}},
        ],
        [
            {"LEMMA": {"IN": ["come", "came", "hit"]}},
            _GAP,
            _GAP,
            _GAP,
            {"LOWER": {"IN": ["seconds", "second", "instantly", "instant"]}},
        ],
    ],
    "chest pain": [
        [{"LOWER": "chest"}],
        [{"LOWER": "heart"}, {"LEMMA": {"IN": ["race", "racing", "pound", "pounding"]}}],
    ],
    "fainting": [
        [{"LEMMA": {"IN": ["faint", "fainting", "collapse", "unconscious"]}}],
        [
            {"LOWER": {"IN": ["pass", "passed", "passing", "black", "blacked", "blacking"]}},
            {"LOWER": "out"},
        ],
        [{"LOWER": "lost"}, {"LOWER": "consciousness"}],
    ],
    "thoughts of self-harm": [
        [{"LOWER": {"REGEX": r"^suicid"}}],
        [
            {"LEMMA": {"IN": ["kill", "hurt", "harm", "end"]}},
            {"LOWER": {"IN": ["myself", "my", "it"]}},
            {"LOWER": {"IN": ["life", "all"]}, "OP": "?"},
        ],
        [{"LOWER": "self"}, {"LOWER": "-", "OP": "?"}, {"LOWER": {"IN": ["harm", "harming"]}}],
        [{"LOWER": "self-harm"}],
        [
            {"LOWER": {"IN": ["n't", "nt", "not"]}},
            {"LOWER": "want"},
            {"LOWER": "to"},
            {"LOWER": {"IN": ["live", "be", "wake"]}},
        ],
        [{"LOWER": "no"}, {"LOWER": "reason"}, {"LOWER": "to"}, {"LOWER": "live"}],
        [{"LOWER": "better"}, {"LOWER": "off"}, {"LOWER": {"IN": ["dead", "without"]}}],
        [
            {"LEMMA": {"IN": ["want", "wish", "wanna"]}},
            {"LOWER": "to", "OP": "?"},
            {"LOWER": "die"},
        ],
        [
            {"LOWER": "point"},
            {"LOWER": {"IN": ["in", "of"]}, "OP": "?"},
            {"LOWER": {"IN": ["living", "life", "going"]}},
        ],
        [
            {"LEMMA": {"IN": ["cut", "hurt", "harm", "kill"]}},
            {"LOWER": {"IN": ["myself", "himself", "herself"]}},
        ],
        [{"LOWER": {"IN": ["overdose", "overdosing", "od"]}}],
        [{"LOWER": "all"}, {"LOWER": "my"}, {"LOWER": {"IN": ["pills", "tablets", "meds"]}}],
    ],
}
# Rules whose own words are never negated in practice ("i don't want to live"), and which need
# only a personal cue: "if this doesn't work i don't see the point in living" is urgent.
_NEGATION_PROOF = {"thoughts of self-harm"}

_NEGATIONS = {
    "no",
    "not",
    "n't",
    "nt",
    "never",
    "without",
    "nor",
    "none",
    "neither",
    "zero",
    "dont",
    "didnt",
    "havent",
    "hasnt",
    "isnt",
    "arent",
    "wasnt",
    "doesnt",
    "aint",
}
# "can't swallow" is the symptom itself, not a negation of it.
_ABILITY = {"ca", "can", "cannot", "cant", "could", "couldnt", "wo", "unable"}
_FINE = {"fine", "ok", "okay", "normal", "good", "great", "perfect", "alright", "unaffected"}
_CLAUSE_BREAKS = {"but", "though", "although", "however", ".", ";", "!", "?"}

_FIRST_PERSON = {
    "i",
    "i'm",
    "im",
    "me",
    "my",
    "mine",
    "myself",
    "ive",
    "i've",
    "id",
    "i'd",
    "we",
    "our",
    "us",
    "ours",
}
_OTHER_PERSON = {
    "he",
    "she",
    "his",
    "her",
    "him",
    "they",
    "mum",
    "mom",
    "mother",
    "dad",
    "father",
    "husband",
    "wife",
    "partner",
    "son",
    "daughter",
    "sister",
    "brother",
    "grandma",
    "grandad",
    "grandpa",
    "granny",
    "child",
    "boyfriend",
    "girlfriend",
    "friend",
}
# Words that place a report here and now, even inside a question ("is it normal that ... since").
_NOW = {
    "since",
    "now",
    "today",
    "tonight",
    "yesterday",
    "morning",
    "currently",
    "started",
    "starting",
    "keeps",
    "suddenly",
    "ago",
    "hour",
    "hours",
    "minutes",
    "mins",
    "began",
    "happening",
    "worse",
}
# Words that suggest a report but do not outweigh general framing ("can you faint after it?").
_REPORT = {
    "after",
    "having",
    "feel",
    "feels",
    "feeling",
    "still",
    "getting",
    "keep",
    "is",
    "are",
    "has",
    "have",
    "got",
}
# "years ago" is a story, not an emergency.
_DISTANT = {"years", "year", "months", "long"}
# A writer who says they have no symptoms is asking in general.
_NO_SYMPTOMS = [
    [{"LOWER": {"IN": ["no", "any", "without"]}}, {"LOWER": "symptoms"}],
    [{"LOWER": "not"}, {"LOWER": "having"}, {"LOWER": "any"}],
]
# Words that frame a general question about risks.
_GENERAL = {
    "can",
    "could",
    "cause",
    "causes",
    "risk",
    "risks",
    "possible",
    "chance",
    "common",
    "rare",
    "happen",
    "happens",
    "warning",
    "if",
    "heard",
    "read",
    "people",
    "anyone",
    "someone",
    "patients",
    "effect",
    "effects",
    "might",
    "would",
    "will",
}

# --- personal clinical context: (rule name, patterns, needs a first-person cue) ----------
_MEDICINES = [
    "medication",
    "medications",
    "medicine",
    "medicines",
    "meds",
    "med",
    "pills",
    "pill",
    "tablets",
    "tablet",
    "prescription",
    "prescribed",
    "supplement",
    "supplements",
    "drug",
    "drugs",
    "topiramate",
    "topamax",
    "propranolol",
    "amitriptyline",
    "nortriptyline",
    "candesartan",
    "sumatriptan",
    "rizatriptan",
    "zolmitriptan",
    "triptan",
    "triptans",
    "imitrex",
    "maxalt",
    "aimovig",
    "erenumab",
    "ajovy",
    "fremanezumab",
    "emgality",
    "galcanezumab",
    "vyepti",
    "nurtec",
    "rimegepant",
    "ubrelvy",
    "qulipta",
    "warfarin",
    "apixaban",
    "eliquis",
    "xarelto",
    "rivaroxaban",
    "clopidogrel",
    "aspirin",
    "ibuprofen",
    "naproxen",
    "paracetamol",
    "acetaminophen",
    "tylenol",
    "advil",
    "codeine",
    "tramadol",
    "opioids",
    "gabapentin",
    "pregabalin",
    "lyrica",
    "lithium",
    "sertraline",
    "fluoxetine",
    "citalopram",
    "venlafaxine",
    "duloxetine",
    "antidepressant",
    "antidepressants",
    "ssri",
    "ssris",
    "antibiotic",
    "antibiotics",
    "gentamicin",
    "aminoglycoside",
    "insulin",
    "metformin",
    "steroid",
    "steroids",
    "prednisone",
    "prednisolone",
    "valproate",
    "depakote",
    "verapamil",
    "flunarizine",
    "melatonin",
    "magnesium",
    "riboflavin",
    "beta-blocker",
    "blocker",
    "blockers",
    "thinners",
    "thinner",
    "anticoagulant",
    "anticoagulants",
    "contraceptive",
    "contraception",
    "hrt",
    "ozempic",
    "semaglutide",
    "cannabis",
    "cbd",
    "xanax",
    "diazepam",
    "valium",
    "muscle-relaxant",
    "relaxants",
]
_CONDITIONS = [
    "epilepsy",
    "epileptic",
    "seizure",
    "seizures",
    "myasthenia",
    "gravis",
    "als",
    "lambert",
    "eaton",
    "neuromuscular",
    "asthma",
    "copd",
    "diabetes",
    "diabetic",
    "glaucoma",
    "bleeding",
    "clotting",
    "haemophilia",
    "hemophilia",
    "autoimmune",
    "ms",
    "sclerosis",
    "lupus",
    "cancer",
    "chemo",
    "chemotherapy",
    "kidney",
    "liver",
    "pacemaker",
    "stroke",
    "arrhythmia",
    "hypertension",
    "fibromyalgia",
    "thyroid",
    "allergy",
    "allergies",
]
CLINICAL_PATTERNS: dict[str, tuple[list[list[dict]], bool]] = {
    "own medicines": ([[{"LOWER": {"IN": _MEDICINES}}]], True),
    "own conditions": (
        [
            [{"LOWER": {"IN": _CONDITIONS}}],
            [{"LOWER": "blood"}, {"LOWER": {"IN": ["pressure", "thinners", "thinner", "clots"]}}],
            [
                {"LOWER": "heart"},
                {"LOWER": {"IN": ["condition", "problem", "problems", "disease"]}},
            ],
            [{"LOWER": "allergic"}, {"LOWER": "to"}],
        ],
        True,
    ),
    "pregnancy or breastfeeding": (
        [
            [
                {
                    "LOWER": {
                        "REGEX": r"^(pregnan|breast-?feed|conceiv|ttc$|ivf$|postpartum|nursing$)"
                    }
                }
            ],
            [{"LOWER": "breast"}, {"LOWER": {"IN": ["feeding", "feed", "feedin"]}}],
            [{"LOWER": "trying"}, {"LOWER": "for"}, {"LOWER": "a"}, {"LOWER": "baby"}],
            [{"LOWER": {"IN": ["had", "have"]}}, {"LOWER": "a"}, {"LOWER": "baby"}],
        ],
        False,
    ),
    "dose or units": (
        [
            [{"LOWER": {"IN": ["units", "unit", "dose", "doses", "dosage", "dosing", "mg", "ml"]}}],
            [{"LOWER": "how"}, {"LOWER": "much"}, {"LOWER": {"IN": ["botox", "toxin"]}}],
        ],
        False,
    ),
    "stop or change a medicine": (
        [
            [
                {
                    "LEMMA": {
                        "IN": ["stop", "quit", "change", "switch", "reduce", "increase", "skip"]
                    }
                },
                {"LOWER": {"IN": ["taking", "my", "using"]}},
            ],
            [{"LOWER": "come"}, {"LOWER": "off"}, {"LOWER": {"IN": ["my", "the"]}}],
        ],
        True,
    ),
    "own headache pattern": (
        [
            [
                {"LIKE_NUM": True},
                {"OP": "?"},
                {"LEMMA": {"IN": ["headache", "migraine", "day", "attack", "episode"]}},
                {"OP": "?"},
                {"OP": "?"},
                {"LOWER": {"IN": ["month", "week", "mth", "mo", "wk"]}},
            ],
            [
                {"LOWER": {"IN": ["do", "would", "could", "will"]}},
                {"LOWER": "i"},
                {"LOWER": {"IN": ["qualify", "count", "be", "get"]}},
                {"LOWER": {"IN": ["as", "eligible", "approved"]}, "OP": "?"},
                {"LOWER": {"IN": ["chronic", "eligible", "approved"]}},
            ],
            [
                {"LOWER": {"IN": ["am", "im", "i'm"]}},
                {"LOWER": "i", "OP": "?"},
                {"LOWER": {"IN": ["eligible", "chronic", "a"]}},
                {"LOWER": {"IN": ["candidate"]}, "OP": "?"},
            ],
        ],
        True,
    ),
    # Asking for a diagnosis of one's own symptoms: only a clinician may answer that.
    "diagnosis request": (
        [
            [
                {"LOWER": "what"},
                {"LOWER": {"IN": ["do", "have"]}},
                {"LOWER": "i"},
                {"LOWER": {"IN": ["have", "got"]}},
                {"IS_PUNCT": True},
            ],
            [
                {"LOWER": {"IN": ["what", "whats"]}},
                {"LOWER": {"IN": ["'s", "s", "is"]}, "OP": "?"},
                {"LOWER": "wrong"},
                {"LOWER": "with"},
                {"LOWER": "me"},
            ],
            [{"LEMMA": {"IN": ["diagnose", "diagnosis"]}}, {"LOWER": {"IN": ["me", "my"]}}],
            [
                {"LOWER": {"IN": ["what", "whats"]}},
                {"LOWER": {"IN": ["'s", "s", "is"]}, "OP": "?"},
                {"LOWER": "causing"},
                {"LOWER": "my"},
            ],
        ],
        True,
    ),
    "safe for me": (
        [
            [
                {"LOWER": {"IN": ["safe", "ok", "okay", "alright"]}},
                {"LOWER": "for"},
                {"LOWER": {"IN": ["me", "my", "someone"]}},
            ]
        ],
        False,
    ),
}


@dataclass(frozen=True)
class SafetyMatch:
    """A fired rule: which rule, on which words."""

    rule: str
    phrase: str
    start_char: int
    end_char: int


def build_nlp() -> Language:
    """A blank English pipeline with a sentence splitter and the lookup lemmatizer."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class SafetyDetector:
    """Finds red-flag symptom reports and personal clinical context in one message."""

    def __init__(self, nlp: Language | None = None) -> None:
        self.nlp = nlp or build_nlp()
        self._urgent = Matcher(self.nlp.vocab)
        for name, patterns in URGENT_PATTERNS.items():
            self._urgent.add(name, patterns)
        self._urgent.add("no symptoms", _NO_SYMPTOMS)
        self._clinical = Matcher(self.nlp.vocab)
        self._clinical_needs_person: dict[str, bool] = {}
        for name, (patterns, needs_person) in CLINICAL_PATTERNS.items():
            self._clinical.add(name, patterns)
            self._clinical_needs_person[name] = needs_person

    def parse(self, text: str) -> Doc:
        # Curly apostrophes from phones would split "can’t" differently from "can't".
        return self.nlp(text.replace("\u2019", "'").replace("\u2018", "'"))

    def urgent(self, text: str | Doc) -> SafetyMatch | None:
        """The first red-flag symptom the writer reports as happening now, if any."""
        doc = self.parse(text) if isinstance(text, str) else doc_or_raise(text)
        spans = list(self._spans(self._urgent, doc))
        says_no_symptoms = any(s.label_ == "no symptoms" for s in spans)
        cues = _cues(doc)
        for span in spans:
            if span.label_ == "no symptoms":
                continue
            if span.label_ in _NEGATION_PROOF:
                if cues.personal:
                    return _to_match(span)
                continue
            if says_no_symptoms or _is_negated(span):
                continue
            if cues.reports_own_situation:
                return _to_match(span)
        return None

    def clinical(self, text: str | Doc) -> SafetyMatch | None:
        """The first sign that the writer asks about their own medicines, conditions or doses."""
        doc = self.parse(text) if isinstance(text, str) else doc_or_raise(text)
        has_person = any(t.lower_ in _FIRST_PERSON for t in doc)
        for span in self._spans(self._clinical, doc):
            if self._clinical_needs_person[span.label_] and not has_person:
                continue
            before = doc[max(0, span.start - 3) : span.start].text.lower()
            after = doc[span.end : span.end + 1].text.lower()
            if "list of" in before or after == "overuse":
                continue  # "bring a list of my meds", "medication overuse headache": not advice
            return _to_match(span)
        return None

    @staticmethod
    def _spans(matcher: Matcher, doc: Doc) -> Iterable[Span]:
        spans = matcher(doc, as_spans=True)
        # Earliest first, then longest, so the reported phrase is the most telling one.
        return sorted(spans, key=lambda s: (s.start, -(s.end - s.start)))


def doc_or_raise(doc: Doc) -> Doc:
    if not isinstance(doc, Doc):
        raise TypeError(f"expected text or a spaCy Doc, got {type(doc).__name__}")
    return doc


def _to_match(span: Span) -> SafetyMatch:
    return SafetyMatch(span.label_, span.text, span.start_char, span.end_char)


def _is_negated(span: Span) -> bool:
    """True for "no trouble swallowing", "haven't had any chest pain", "breathing is fine"."""
    doc = span.doc
    start = span.start
    for i in range(start - 1, max(span.sent.start, start - 5) - 1, -1):
        token = doc[i]
        if token.lower_ in _CLAUSE_BREAKS or token.is_punct:
            break
        if token.lower_ in _NEGATIONS:
            previous = doc[i - 1].lower_ if i > 0 else ""
            if previous in _ABILITY or token.lower_ in {"cant", "cannot"}:
                return False  # "can't swallow" is the symptom itself
            return True
        if token.lower_ in _ABILITY and token.lower_ in {"cant", "cannot", "unable"}:
            return False
    for i in range(span.end, min(span.sent.end, span.end + 3)):
        token = doc[i]
        if token.lower_ in _CLAUSE_BREAKS:
            break
        if token.lower_ in _FINE:
            return True
    return False


@dataclass(frozen=True)
class _Cues:
    personal: bool  # the writer or someone with them is the subject
    now: bool  # here-and-now words that outweigh general framing
    report: bool  # weaker signs of a report
    general: bool  # framing of a general question about risks

    @property
    def reports_own_situation(self) -> bool:
        if self.now:
            return self.personal or self.report or not self.general
        return (self.personal or self.report) and not self.general


def _cues(doc: Doc) -> _Cues:
    words = [t.lower_ for t in doc]
    now = any(
        w in _NOW and not (w == "ago" and i > 0 and words[i - 1] in _DISTANT)
        for i, w in enumerate(words)
    )
    return _Cues(
        personal=any(w in _FIRST_PERSON or w in _OTHER_PERSON for w in words),
        now=now,
        report=any(w in _REPORT for w in words),
        # "can't"/"cannot" is a report of inability, not "can botox cause ...".
        general=any(
            w in _GENERAL and not (i + 1 < len(words) and words[i + 1] in {"n't", "not", "nt"})
            for i, w in enumerate(words)
        ),
    )
