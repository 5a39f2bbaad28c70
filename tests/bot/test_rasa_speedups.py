"""The cached action-response validator accepts and refuses exactly what Rasa's own does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

ORIGINAL = RemoteAction._validate_action_result
assert not rasa_speedups._installed, "import this module before anything installs the patch"

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
def test_same_verdict_and_message_as_rasa(response: dict, valid: bool) -> None:
    rasa_speedups.install()
    expected = _outcome(ORIGINAL, response)
    got = _outcome(RemoteAction._validate_action_result, response)
    assert got == expected
    assert got[0] is valid
    if not valid:
        assert "Failed to validate Action server response" in got[1]
