"""Redaction: a table of messages with personal data; none of it may survive."""

from __future__ import annotations

import pytest

from bot.maintain.redact import Redactor


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


CASES = [
    # (message, personal data that must disappear, tag that must appear)
    ("hi my name is Sarah Connolly and i can't swallow", ["Sarah", "Connolly"], "<name>"),
    ("my name's priya, does it hurt", ["priya"], "<name>"),
    ("this is Tom Baker calling about my appointment", ["Tom", "Baker"], "<name>"),
    ("im called Mehmet, how long does it take", ["Mehmet"], "<name>"),
    ("call me on 07700 900123 please", ["07700 900123"], "<phone>"),
    ("my number is +44 161 496 0000", ["+44 161 496 0000"], "<phone>"),
    ("reach me at (555) 010-0199 after 5", ["(555) 010-0199"], "<phone>"),
    ("email me: jane.doe+clinic@example.co.uk", ["jane.doe+clinic@example.co.uk"], "<email>"),
    ("my dob is 03/04/1985", ["03/04/1985"], "<date>"),
    ("born on 12th of March 1979, am i too old", ["12th of March 1979"], "<date>"),
    ("date of birth: 1990-07-21", ["1990-07-21"], "<date>"),
    ("i was born 4 july 1968", ["4 july 1968"], "<date>"),
    ("i live at 42 Wallaby Way, Sydney", ["42 Wallaby Way"], "<address>"),
    (
        "send it to 10 downing street london SW1A 2AA",
        ["10 downing street", "SW1A 2AA"],
        "<address>",
    ),
    (
        "this is Anna Smith, 07123 456789, anna@mail.example, 7 Park Lane",
        ["Anna", "Smith", "07123 456789", "anna@mail.example", "7 Park Lane"],
        "<name>",
    ),
]


@pytest.mark.parametrize(("message", "personal", "tag"), CASES)
def test_personal_data_is_removed(redactor, message, personal, tag):
    redacted = redactor.redact(message)
    for item in personal:
        assert item not in redacted, redacted
    assert tag in redacted


KEEP = [
    "this is my third round of botox, when will it work",
    "this is urgent, i can't breathe",
    "how long does the 15 minute session take",
    "i get 20 headache days a month, do i qualify",
    "is botox done every 12 weeks",
    "can i drive after the injections",
]


@pytest.mark.parametrize("message", KEEP)
def test_messages_without_personal_data_are_unchanged(redactor, message):
    assert redactor.redact(message) == message
