"""Checking the contact details patients type: names, phone numbers, e-mail addresses."""

from __future__ import annotations

import pytest

from bot.cases.contact import (
    Checked,
    check_email,
    check_name,
    check_phone,
    mask_email,
    mask_phone,
)

# Verified with phonenumbers 9.0.43: valid for libphonenumber in the given region.
US_PHONES = ["(212) 555-2368", "212-555-0100", "(201) 555-0123", "(212) 736-5000"]
GB_PHONES = ["020 7946 0018", "07911 123456", "020 7219 3000"]


def _refused(result: Checked) -> str:
    assert result.value is None
    assert isinstance(result.reason, str) and result.reason.endswith(".")
    return result.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jane Doe", "Jane Doe"),
        ("  Jane \t  Doe \n", "Jane Doe"),
        ("Jo", "Jo"),
        ("J", "J"),
        ("王小明", "王小明"),
        ("张三", "张三"),  # 三 is a CJK numeral, yet an ordinary part of a name
        ("محمد علي", "محمد علي"),
        ("Anne-Marie Smith-Jones", "Anne-Marie Smith-Jones"),
        ("Seán O'Brien", "Seán O'Brien"),
        ("D’Angelo", "D’Angelo"),
        ("J. R. R. Tolkien", "J. R. R. Tolkien"),
        ("María José García de la Cruz", "María José García de la Cruz"),
        ("Ólafur Þór", "Ólafur Þór"),
        ("Дмитрий Иванов", "Дмитрий Иванов"),
        ("نرگس\u200cخانم", "نرگس\u200cخانم"),  # Persian zero-width non-joiner
        ("a" * 80, "a" * 80),
    ],
)
def test_names_accepted(text, expected):
    assert check_name(text) == Checked(value=expected, reason=None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "type your name"),
        ("   \t\n", "type your name"),
        ("a" * 81, "too long"),
        ("Jane " + "D" * 76, "too long"),
        ("---", "letters"),
        ("''", "letters"),
        ("😀", "letters"),
        ("Jane 2", "numbers"),
        ("Agent 007", "numbers"),
        ("٣ Ali", "numbers"),
        ("212 555 0100", "letters"),
        ("jane@example.org", "e-mail"),
        ("Jane Doe jane@example.org", "e-mail"),
        ("https://example.org", "web address"),
        ("www.jane.example", "web address"),
        ("jane.com", "web address"),
        ("see example.org/jane", "web address"),
        ("one two three four five six seven", "at most 6 words"),
        ("Jane\x00Doe", "can't read"),
        ("Jane\ud800", "can't read"),
    ],
)
def test_names_refused(text, fragment):
    assert fragment in _refused(check_name(text))


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("(212) 555-2368", "US", "+1 212-555-2368"),
        ("212-555-0100", "US", "+1 212-555-0100"),
        ("2125550100", "US", "+1 212-555-0100"),
        ("212.555.0100", "US", "+1 212-555-0100"),
        ("  (201) 555-0123  ", "US", "+1 201-555-0123"),
        ("+1 212 736 5000", "US", "+1 212-736-5000"),
        ("1 212 736 5000", "US", "+1 212-736-5000"),
        ("(212) 555-2368", "us", "+1 212-555-2368"),
        ("212 555 0100 ext. 12", "US", "+1 212-555-0100 ext. 12"),
        ("212-555-0100 x12", "US", "+1 212-555-0100 ext. 12"),
        ("+44 20 7946 0018", "US", "+44 20 7946 0018"),
        ("+44 7911 123456", "US", "+44 7911 123456"),
        ("020 7946 0018", "GB", "+44 20 7946 0018"),
        ("07911 123456", "GB", "+44 7911 123456"),
        ("020 7219 3000", "GB", "+44 20 7219 3000"),
        ("(020) 7946-0018", "GB", "+44 20 7946 0018"),
        ("+1 212 736 5000", "GB", "+1 212-736-5000"),
        ("٠٢٠ ٧٩٤٦ ٠٠١٨", "GB", "+44 20 7946 0018"),
    ],
)
def test_phones_accepted(text, region, expected):
    assert check_phone(text, region) == Checked(value=expected, reason=None)


@pytest.mark.parametrize("text", US_PHONES)
def test_us_sample_numbers_are_valid(text):
    assert check_phone(text, "US").value is not None


@pytest.mark.parametrize("text", GB_PHONES)
def test_gb_sample_numbers_are_valid(text):
    assert check_phone(text, "GB").value is not None


@pytest.mark.parametrize(
    ("text", "region", "fragment"),
    [
        ("", "US", "Please type your phone number"),
        ("555-0100", "US", "doesn't look like a phone number"),
        ("12", "US", "doesn't look like a phone number"),
        ("020 7946 0018", "US", "doesn't look like a phone number"),
        ("07700 900123", "GB", "doesn't look like a phone number"),  # Ofcom drama range
        ("212-555-CALL", "US", "digits only"),
        ("call me please", "US", "digits only"),
        ("phone: 212 555 0100", "US", "digits only"),
        ("📞📞📞", "US", "digits only"),
        ("212 555 0100 😀", "US", "digits only"),
        ("\ud83d", "US", "digits only"),
        ("212\x00555\x000100", "US", "digits only"),
        ("1" * 41, "US", "too long"),
        ("1" * 35, "US", "doesn't look like a phone number"),
        ("+1 212 555 0100 0000 000", "US", "doesn't look like a phone number"),
        ("+++", "US", "doesn't look like a phone number"),
        ("212 555 0100", "", "country code"),
        ("212 555 0100", "ZZ", "country code"),
    ],
)
def test_phones_refused(text, region, fragment):
    assert fragment in _refused(check_phone(text, region))


def test_phone_reason_gives_a_local_example():
    assert "(201) 555-0123" in _refused(check_phone("12", "US"))
    assert "0121 234 5678" in _refused(check_phone("12", "GB"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane@example.org", "jane@example.org"),
        ("  jane@example.org ", "jane@example.org"),
        ("Jane.Doe@Example.ORG", "Jane.Doe@example.org"),
        ("jane+clinic@example.co.uk", "jane+clinic@example.co.uk"),
        ("jane@bücher.example", "jane@bücher.example"),
        ("jane@xn--bcher-kva.example", "jane@bücher.example"),
        ("小明@例子.中国", "小明@例子.中国"),
        ("ü@example.org", "ü@example.org"),
    ],
)
def test_emails_accepted(text, expected):
    assert check_email(text) == Checked(value=expected, reason=None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Please type your e-mail address"),
        ("jane.example.org", "needs an @ sign"),
        ("@example.org", "part before the @"),
        ("jane@", "part after the @"),
        ("jane@localhost", "part after the @"),
        ("jane@example", "part after the @"),
        ("jane@example.test", "part after the @"),
        ("jane@[127.0.0.1]", "part after the @"),
        ("jane doe@example.org", "such as a space"),
        ("jane@exa mple.org", "such as a space"),
        ("jane..doe@example.org", "can't be used"),
        ("jane@b@example.org", "can't be used"),
        ("jane@exa_mple.org", "can't be used"),
        ("\ud800@example.org", "can't be used"),
        ("a" * 288 + "@example.org", "too long"),
        ("a" * 5000, "too long"),
    ],
)
def test_emails_refused(text, fragment):
    reason = _refused(check_email(text))
    assert fragment in reason
    example_free = reason.replace("name@example.org", "")
    assert text.strip() == "" or text not in example_free  # never echoes the input


ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "\ud800",
    "\udfff\ud83d",
    "٠١٢٣",
    "\u202e",
    "\ufeff",
    "@",
    "+",
    "x",
    "ext. 12",
    "\n\r\t",
    "😀" * 50,
    "a" * 5000,
    "1" * 5000,
    "@" * 5000,
    "+" + "٩" * 39,
]


@pytest.mark.parametrize("text", ODD_STRINGS)
@pytest.mark.parametrize("region", ["US", "GB", "", "ZZ", "\ud800"])
def test_phone_never_raises(text, region):
    result = check_phone(text, region)
    assert (result.value is None) != (result.reason is None)


@pytest.mark.parametrize("text", ODD_STRINGS)
def test_other_checks_and_masks_never_raise(text):
    for result in (check_name(text), check_email(text)):
        assert (result.value is None) != (result.reason is None)
    assert isinstance(mask_phone(text), str)
    assert isinstance(mask_email(text), str)


def test_checked_holds_exactly_one_of_value_and_reason():
    with pytest.raises(ValueError):
        Checked(value=None, reason=None)
    with pytest.raises(ValueError):
        Checked(value="x", reason="y")
    assert Checked(value="x", reason=None).ok
    assert not Checked(value=None, reason="y").ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+1 212-555-0100", "+1 •••-•••-0100"),
        ("+44 20 7946 0018", "+44 •• •••• 0018"),
        ("+44 7911 123456", "+44 •••• ••3456"),
        ("+12125550100", "+•••••••0100"),
        ("1234", "••••"),
        ("", ""),
    ],
)
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jane@example.org", "j•••@example.org"),
        ("j@example.org", "j•••@example.org"),
        ("小明@例子.中国", "小•••@例子.中国"),
        ("@example.org", "•••@example.org"),
        ("no-at-sign", "•••"),
        ("", "•••"),
    ],
)
def test_mask_email(value, expected):
    assert mask_email(value) == expected


def test_masks_hide_what_a_check_returned():
    phone = check_phone("(212) 736-5000", "US").value
    email = check_email("jane.doe@example.org").value
    assert phone and email
    assert "736" not in mask_phone(phone) and mask_phone(phone).endswith("5000")
    assert "jane.doe" not in mask_email(email)
