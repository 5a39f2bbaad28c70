from __future__ import annotations

import pytest

from bot.rasa_server.textclean import clean_message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("does it hurt?", "does it hurt?"),
        ("  padded  ", "padded"),
        ("nul\x00byte", "nulbyte"),
        ("bell\x07 and escape\x1b[31m", "bell and escape[31m"),
        ("line one\nline two\ttab", "line one\nline two\ttab"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("isolate\u2066x\u2069", "isolatex"),
        ("c1\x85control", "c1control"),
        ("¿Duele la inyección?", "¿Duele la inyección?"),
        ("注射は痛いですか", "注射は痛いですか"),
        ("مرحبا", "مرحبا"),
        ("😀👍", "😀👍"),
        ("e\u0301", "\u00e9"),  # NFC: one character, as typed on another keyboard
        ("\x00\x00", ""),
        ("half an emoji \ud83d", "half an emoji"),  # the widget's maxlength cut a pair
        ("\udc00lone low", "lone low"),
        ("i can't breathe \ud83d since my botox", "i can't breathe  since my botox"),
    ],
)
def test_clean_message(raw: str, clean: str) -> None:
    assert clean_message(raw) == clean


@pytest.mark.parametrize("raw", ["\ud800", "a\udfffb", "x\ud83d"])
def test_clean_message_is_always_utf8_encodable(raw: str) -> None:
    clean_message(raw).encode("utf-8")  # raises UnicodeEncodeError if a surrogate is left


def test_encodable_drops_only_what_utf8_cannot_hold() -> None:
    from bot.rasa_server.textclean import encodable

    assert encodable("é \ud800 😀") == "é  😀"
