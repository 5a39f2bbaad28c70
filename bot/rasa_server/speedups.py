"""Same behaviour, less CPU: one measured hot spot of Rasa 3.6, fixed at server start.

Profiling the Rasa server under load (py-spy, bench/load.py) showed about 40 % of its CPU in
``jsonschema``: ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` for every
action response, which re-checks the schema itself against the (deep, dynamic-ref) draft
2020-12 meta-schema each time. Here the schema is checked once and its validator reused; the
response is validated against exactly the same schema, with the same error.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_installed = False
_original: Any = None


def install() -> None:
    """Replaces ``RemoteAction._validate_action_result`` with a cached-validator version."""
    global _installed
    if _installed:
        return
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error

    global _original
    _original = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result
    _installed = True
    logger.debug("Rasa speed-ups installed")


def uninstall() -> None:
    """Puts Rasa's own validator back (for tests)."""
    global _installed
    if not _installed:
        return
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _original
    _installed = False
