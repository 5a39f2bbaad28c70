from __future__ import annotations

import pytest

from bot.textclean import clean_message


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
    ],
)
def test_clean_message(raw: str, clean: str) -> None:
    assert clean_message(raw) == clean
