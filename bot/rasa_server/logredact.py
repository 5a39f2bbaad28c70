"""Keeping patient text out of Rasa's own error logs.

When a custom action fails, Rasa logs the action server's response, which carries the whole
tracker (every patient message), at ERROR level. This filter, installed on Rasa's loggers by our
channels at server start, replaces message texts and request bodies before the record is written.
"""

from __future__ import annotations

import logging
import re

_QUOTED_FIELDS = re.compile(
    r'(\\*"(?:text|message|request_body|action_text)\\*"\s*:\s*)\\*"(?:[^"\\]|\\.)*?\\*"'
)
# structlog's key=value form: text='...' or text="..." (possibly escaped).
_KEY_VALUES = re.compile(r"\b(text|message)=(\\?\"(?:.*?)\\?\"|'(?:[^'\\]|\\.)*'|\S+)")
_BODIES = re.compile(r"body='.*", re.DOTALL)
_OMITTED = "[omitted: patient data]"
MAX_LENGTH = 2000

# The loggers that print trackers or message texts when something fails.
RASA_LOGGERS = (
    "rasa.core.processor",
    "rasa.core.actions.action",
    "rasa.utils.endpoints",
    "rasa.core.agent",
    "rasa.core.channels.rest",
    "rasa.core.channels.socketio",
    "rasa.server",
)


def redact(text: str) -> str:
    text = _BODIES.sub(f"body={_OMITTED}", text)
    text = _QUOTED_FIELDS.sub(lambda m: f'{m.group(1)}"{_OMITTED}"', text)
    text = _KEY_VALUES.sub(lambda m: f"{m.group(1)}={_OMITTED}", text)
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH] + " …[truncated]"


class PatientTextFilter(logging.Filter):
    """Redacts the formatted message and the exception text of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_installed = False


def install() -> None:
    """Adds the filter to Rasa's loggers (once per process)."""
    global _installed
    if _installed:
        return
    log_filter = PatientTextFilter()
    for name in RASA_LOGGERS:
        logging.getLogger(name).addFilter(log_filter)
    _installed = True
