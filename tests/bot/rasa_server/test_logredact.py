"""Rasa's own error logs lose the patient text our filter finds in them."""

from __future__ import annotations

import io
import logging

from bot.rasa_server import logredact

# What Rasa 3.6 logged here when an action answered HTTP 500 (shortened).
RASA_ERROR = (
    'ClientResponseError: 500, Internal Server Error, body=\'b\'{"error":"boom",'
    '"request_body":{"tracker":{"latest_message":{"text":"i take topiramate and '
    'my name is Zed"},"events":[{"event":"user","text":"since my shots i can\'t '
    "swallow\"}]}}}''"
)


def test_redact_removes_bodies_and_texts():
    cleaned = logredact.redact(RASA_ERROR)
    for secret in ("topiramate", "Zed", "swallow"):
        assert secret not in cleaned
    assert "500, Internal Server Error" in cleaned  # what went wrong stays readable
    escaped = 'failure text=\\"my lips are swelling\\" rest'
    assert "swelling" not in logredact.redact(escaped)


def test_installed_filter_cleans_messages_and_tracebacks_of_rasa_loggers():
    logredact.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("rasa.core.processor")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(RASA_ERROR)
        except RuntimeError:
            logger.exception("Encountered an exception while running action: %s", RASA_ERROR)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Encountered an exception" in output and "RuntimeError" in output
    for secret in ("topiramate", "Zed", "swallow"):
        assert secret not in output


def test_unrelated_records_are_untouched():
    record = logging.LogRecord("rasa.server", logging.INFO, __file__, 1, "model %s", ("a",), None)
    assert logredact.PatientTextFilter().filter(record)
    assert record.getMessage() == "model a"
