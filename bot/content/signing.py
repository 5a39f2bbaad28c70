"""Signing an answer off: a new version carrying the reviewer's name and the date.

The file is edited with ruamel.yaml's round trip so its comments and layout stay as the
clinic wrote them; the answer's text and quotes are copied unchanged.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from bot.content.answers import APPROVED, PLACEHOLDER


def sign_answer(path: Path, answer_id: str, reviewer: str, on: dt.date) -> int:
    """Adds version + 1 of ``answer_id``, signed; the signed-off version is superseded.
    Returns the new version.

    Raises:
        ValueError: no approved version of ``answer_id``, or an empty or placeholder name.
    """
    from ruamel.yaml import YAML

    name = " ".join(reviewer.split())
    if not name or name.upper().startswith(PLACEHOLDER):
        raise ValueError("the reviewer must be a real name")
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=2, offset=0)
    data = yaml.load(path.read_text(encoding="utf-8"))
    entries = data["answers"]
    current = [
        (index, entry)
        for index, entry in enumerate(entries)
        if str(entry["id"]) == answer_id and entry["status"] == APPROVED
    ]
    if not current:
        raise ValueError(f"no approved answer with id {answer_id!r}")
    index, entry = current[-1]
    signed = copy.deepcopy(entry)
    signed["version"] = int(entry["version"]) + 1
    signed["reviewer"] = name
    signed["reviewed_on"] = on
    entry["status"] = "superseded"
    entries.insert(index + 1, signed)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return int(signed["version"])
