"""Checking the contact details a patient types into a chat form (pure functions, no I/O).

Every function accepts any ``str`` and never raises: a refusal comes back as a ``reason`` the
patient can read, never as an exception or a library message quoting their input back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_NAME_CHARS = 80
MAX_NAME_WORDS = 6
MAX_PHONE_CHARS = 40
MAX_EMAIL_CHARS = 320  # above any valid address; spares the validator pathological input
MASK = "•"

# Control, surrogate, private-use and unassigned code points: never part of a typed name.
_UNREADABLE_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_URL = re.compile(
    r"://|\bwww\.|\b[\w-]+\.(?:com|org|net|info|biz|io|co|uk|de|fr|me|app|ly)(?=[/\s]|$)",
    re.IGNORECASE,
)
# An extension may be typed in words ("ext. 12", "x12"); anything else must be digits/punctuation.
_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*\d{1,6}\s*$", re.IGNORECASE)
_PHONE_PUNCTUATION = frozenset("+-.()/ ")
_COUNTRY_PREFIX = re.compile(r"\+\d{1,3} ")

_EMAIL_EXAMPLE = "for example name@example.org"
# Ordered: the first fragment found in email-validator's message picks the patient's sentence.
_EMAIL_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("must have an @-sign",), f"An e-mail address needs an @ sign, {_EMAIL_EXAMPLE}."),
    (
        ("before the @-sign.",),
        f"Please type the part before the @ as well, {_EMAIL_EXAMPLE}.",
    ),
    (("too long", "so many characters"), "That e-mail address is too long: please check it."),
    (
        ("after the @-sign.", "should have a period", "special-use", "bracketed", "is not valid"),
        f"The part after the @ doesn't look like an e-mail domain: please check it, "
        f"{_EMAIL_EXAMPLE}.",
    ),
    (
        ("characters", "quoting", "period", "hyphen", "dot"),
        "That e-mail address contains a character that can't be used there, such as a space: "
        "please check it.",
    ),
)
_EMAIL_FALLBACK = f"That doesn't look like an e-mail address: please check it, {_EMAIL_EXAMPLE}."


@dataclass(frozen=True)
class Checked:
    """The outcome of one check: the cleaned ``value`` or the patient-readable ``reason``."""

    value: str | None
    reason: str | None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.reason is None):
            raise ValueError("exactly one of value and reason must be set")

    @property
    def ok(self) -> bool:
        return self.value is not None


def _accept(value: str) -> Checked:
    return Checked(value=value, reason=None)


def _refuse(reason: str) -> Checked:
    return Checked(value=None, reason=reason)


def check_name(text: str) -> Checked:
    """A person's name in any script: 1-80 characters, up to 6 words, no digits, e-mail or URL."""
    name = " ".join(text.split())
    if not name:
        return _refuse("Please type your name.")
    if any(unicodedata.category(char) in _UNREADABLE_CATEGORIES for char in name):
        return _refuse("Your name contains characters we can't read: please type it again.")
    if len(name) > MAX_NAME_CHARS:
        return _refuse(f"That name is too long: please use at most {MAX_NAME_CHARS} characters.")
    if not any(char.isalpha() for char in name):
        return _refuse("Please type your name using letters.")
    if "@" in name:
        return _refuse("That looks like an e-mail address: please type only your name here.")
    if _URL.search(name):
        return _refuse("That looks like a web address: please type only your name here.")
    # isdigit, not isnumeric: CJK numerals such as 一 or 三 are ordinary parts of names.
    if any(char.isdigit() for char in name):
        return _refuse("A name can't contain numbers: please type only your name here.")
    if len(name.split(" ")) > MAX_NAME_WORDS:
        return _refuse(f"Please shorten your name to at most {MAX_NAME_WORDS} words.")
    return _accept(name)


def _phone_example(region: str) -> str:
    example = phonenumbers.example_number(region)
    if example is None:
        return "with the country code, for example +1 212 555 0100"
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return f"with the area code, for example {national}"


def check_phone(text: str, region: str) -> Checked:
    """A phone number valid for libphonenumber, normalised to its INTERNATIONAL format.

    ``region`` (e.g. "US", "GB") is assumed for numbers typed without a leading +.
    """
    region = region.strip().upper()
    hint = _phone_example(region)
    number_text = text.strip()
    if not number_text:
        return _refuse(f"Please type your phone number {hint}.")
    if len(number_text) > MAX_PHONE_CHARS:
        return _refuse(f"That phone number is too long: please type it {hint}.")
    # Letters would otherwise be read as a vanity number (CALL -> 2255), which no patient means.
    digits_part = _EXTENSION.sub("", number_text)
    if not all(char.isdigit() or char in _PHONE_PUNCTUATION for char in digits_part):
        return _refuse(f"Please type the phone number using digits only, {hint}.")
    try:
        number = phonenumbers.parse(number_text, region)
    except phonenumbers.NumberParseException:
        return _refuse(f"That doesn't look like a phone number: please type it {hint}.")
    if not phonenumbers.is_valid_number(number):
        return _refuse(f"That doesn't look like a phone number: please type it {hint}.")
    return _accept(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def check_email(text: str) -> Checked:
    """An e-mail address, checked for syntax only (never DNS), in its normalized form."""
    address = text.strip()
    if not address:
        return _refuse(f"Please type your e-mail address, {_EMAIL_EXAMPLE}.")
    if len(address) > MAX_EMAIL_CHARS:
        return _refuse("That e-mail address is too long: please check it.")
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        return _refuse(_email_reason(str(error)))
    return _accept(valid.normalized)


def _email_reason(message: str) -> str:
    # The library's own message may quote the input; the patient gets our sentence instead.
    lowered = message.lower()
    for fragments, reason in _EMAIL_REASONS:
        if any(fragment in lowered for fragment in fragments):
            return reason
    return _EMAIL_FALLBACK


def mask_phone(value: str) -> str:
    """Keeps the +country code and the last four digits: "+1 •••-•••-0100"."""
    country = _COUNTRY_PREFIX.match(value)
    prefix = country.group(0) if country else ""
    rest = value[len(prefix) :]
    digit_positions = [index for index, char in enumerate(rest) if char.isdigit()]
    shown = set(digit_positions[-4:]) if len(digit_positions) > 4 else set()
    masked = "".join(
        MASK if char.isdigit() and index not in shown else char for index, char in enumerate(rest)
    )
    return prefix + masked


def mask_email(value: str) -> str:
    """Keeps the first character and the domain: "j•••@example.org"."""
    local, at, domain = value.rpartition("@")
    if not at:
        return MASK * 3
    return f"{local[:1]}{MASK * 3}@{domain}"
