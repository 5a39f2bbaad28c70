"""The cached action-response validator accepts and refuses exactly what Rasa's own does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import speedups as rasa_speedups


@pytest.fixture
def patched():
    """The patch, undone after each test so no other test runs against it."""
    original = RemoteAction._validate_action_result
    rasa_speedups.install()
    yield original
    rasa_speedups.uninstall()
    assert RemoteAction._validate_action_result is original


RESPONSES = [
    ({"events": [], "responses": []}, True),
    ({"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}, True),
    ({"events": [{"event": "action", "name": "action_listen"}]}, True),
    ({}, True),
    ({"events": "not a list"}, False),
    ({"responses": ["not an object"]}, False),
    ({"events": [{"event": "no_such_event"}]}, False),
    ({"events": [{"event": "slot"}]}, False),  # a slot event needs its name
]


def _outcome(validate, response: dict) -> tuple[bool, str]:
    try:
        return validate(RemoteAction("action_x", None), response), ""
    except ValidationError as error:
        return False, error.message


@pytest.mark.parametrize(("response", "valid"), RESPONSES)
def test_same_verdict_and_message_as_rasa(patched, response: dict, valid: bool) -> None:
    assert RemoteAction._validate_action_result is not patched
    expected = _outcome(patched, response)
    got = _outcome(RemoteAction._validate_action_result, response)
    assert got == expected
    assert got[0] is valid
    if not valid:
        assert "Failed to validate Action server response" in got[1]


def test_is_empty_is_rasas_answer_kept_per_domain(patched) -> None:
    from rasa.shared.core.domain import Domain

    empty, full = Domain.empty(), Domain.from_yaml("intents:\n- greet\n")
    assert Domain.is_empty is not rasa_speedups._original_is_empty
    assert (empty.is_empty(), full.is_empty()) == (True, False)
    assert (empty.is_empty(), full.is_empty()) == (True, False)  # the kept answers
    assert rasa_speedups._original_is_empty(full) is False
