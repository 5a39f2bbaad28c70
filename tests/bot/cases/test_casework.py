"""What staff read about a patient turn's safety decision."""

from __future__ import annotations

import pytest

from bot.cases.casework import describe_safety


@pytest.mark.parametrize(
    ("safety", "shown"),
    [
        ({"fired": False}, None),
        ({}, None),
        (
            {"fired": True, "rule": "stroke_signs", "source": "rules", "clause": "my face droops",
             "language": "en"},
            "stroke_signs, by rules, on \u201cmy face droops\u201d",
        ),
        (
            {"fired": True, "rule": "learned check", "source": "classifier", "language": "es"},
            "learned check, by classifier, language es",
        ),
        ({"fired": True, "rule": "language de", "source": "language", "language": "de"},
         "language de, by language, language de"),
        ({"fired": True}, "?"),
    ],
)  # fmt: skip
def test_staff_see_which_check_fired_where_and_in_which_language(safety, shown):
    assert describe_safety(safety) == shown
