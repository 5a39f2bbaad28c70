"""Patient text as it enters the system: no control characters, no direction overrides, no
lone surrogates.

NUL cannot be stored in PostgreSQL text; other C0 controls and the Unicode bidirectional
overrides/isolates can make a message display differently from what it says (in the staff
console, in exported training data). A lone UTF-16 surrogate (the widget's ``maxlength`` can cut
an emoji in half, and JSON may carry ``\\ud83d`` alone) cannot be encoded as UTF-8: spaCy, the
database and the logs would raise on it, and an urgent report must never fail that way.
Letters of every script, whole emoji and line breaks stay.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab and newlines, DEL, C1 controls; bidi embeddings, overrides, isolates;
# surrogate code points (only ever lone ones in a Python str decoded from JSON).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_message(text: str) -> str:
    """``text`` in NFC with unsafe characters removed and surrounding whitespace trimmed."""
    return unicodedata.normalize("NFC", _UNSAFE.sub("", text)).strip()


def encodable(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode removed: a last guard inside components
    that may be reached without :func:`clean_message` (``/model/parse``, tests, tools)."""
    return text.encode("utf-8", "ignore").decode("utf-8")
