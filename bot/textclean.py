"""Patient text as it enters the system: no control characters, no direction overrides.

NUL cannot be stored in PostgreSQL text; other C0 controls and the Unicode bidirectional
overrides/isolates can make a message display differently from what it says (in the staff
console, in exported training data). Letters of every script, emoji and line breaks stay.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab and newlines, DEL, C1 controls; bidi embeddings, overrides, isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_message(text: str) -> str:
    """``text`` in NFC with unsafe characters removed and surrounding whitespace trimmed."""
    return _UNSAFE.sub("", unicodedata.normalize("NFC", text)).strip()
