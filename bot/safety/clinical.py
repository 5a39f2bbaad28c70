"""Personal clinical context: the writer asks about their own medicines, conditions, doses,
pregnancy, or reports a minor symptom of their own. Such a question goes to staff (after the
general answer, when there is one): only a clinician may answer it for this person.

Each rule is (patterns, needs a first- or third-person cue). Patterns are spaCy Matcher token
patterns on the lowercased, accent-free message.
"""

from __future__ import annotations

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


# A minor symptom of the writer's own, asked like a general question ("is it normal to have a
# bruise where they injected me?"): the general answer, and a person to look at it.
_MINOR_SYMPTOMS = [
    "bruise", "bruises", "bruised", "bruising", "tender", "tenderness", "sore", "soreness",
    "mark", "marks", "redness", "lump", "lumps", "bump", "bumps", "itchy", "itching", "achy",
    "stiff", "stiffness", "swollen", "swelling", "dizzy", "dizziness", "nausea", "nauseous",
    "rash", "spot", "spots", "numb", "tingling", "heaviness", "twitch", "twitching", "scab",
    "puffy", "bleeding", "bled", "lopsided", "uneven", "droopy",
]  # fmt: skip
# After the treatment, these are personal symptoms too; alone they are the patient's migraine.
_AFTER_TREATMENT = [*_MINOR_SYMPTOMS, "headache", "headaches", "pain", "ache", "aching", "hurts"]
CLINICAL_PATTERNS["own symptom"] = (
    [
        [
            {"LOWER": {"IN": ["my", "i", "i'm", "im", "ive", "i've", "me"]}},
            {"OP": "?", "IS_PUNCT": False},
            {"OP": "?", "IS_PUNCT": False},
            {"OP": "?", "IS_PUNCT": False},
            {"LOWER": {"IN": _MINOR_SYMPTOMS}},
        ],
        [
            {"LOWER": {"IN": _AFTER_TREATMENT}},
            {"OP": "?", "IS_PUNCT": False},
            {"OP": "?", "IS_PUNCT": False},
            {"LOWER": {"IN": ["since", "still", "after", "where"]}},
            {"OP": "?", "IS_PUNCT": False},
            {"LOWER": {"IN": ["my", "i", "me", "they", "yesterday", "last", "the"]}},
        ],
        [
            {"LOWER": {"IN": ["riskier", "risky", "dangerous", "safe", "worse"]}},
            {"OP": "?", "IS_PUNCT": False},
            {"OP": "?", "IS_PUNCT": False},
            {"LOWER": {"IN": ["people", "someone", "patients"]}},
            {"LOWER": "with"},
            {"LOWER": {"IN": ["my", "our"]}},
        ],
    ],
    True,
)
