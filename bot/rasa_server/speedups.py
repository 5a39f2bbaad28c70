"""Same behaviour, less CPU: measured hot spots of Rasa 3.6, fixed at server start.

- Profiling the Rasa server under load (py-spy, bench/load.py) showed about 40 % of its CPU in
  ``jsonschema``: ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` for
  every action response, which re-checks the schema itself against the (deep, dynamic-ref)
  draft 2020-12 meta-schema each time. Here the schema is checked once and its validator
  reused; the response is validated against exactly the same schema, with the same error.
- ``Domain.is_empty`` builds an empty domain and serialises both domains to compare them, and
  Rasa asks it after every parse (``_check_for_unseen_features``): 0.3 ms of the event loop a
  message. A domain does not change once loaded, so each one's answer is kept.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_installed = False
_original: Any = None
_original_is_empty: Any = None
_IS_EMPTY = "_clinic_is_empty"


def _is_empty_once(domain: Any) -> bool:
    """``Domain.is_empty``, computed once per domain."""
    if _IS_EMPTY not in domain.__dict__:
        domain.__dict__[_IS_EMPTY] = _original_is_empty(domain)
    return domain.__dict__[_IS_EMPTY]


def install() -> None:
    """Replaces ``RemoteAction._validate_action_result`` with a cached-validator version."""
    global _installed
    if _installed:
        return
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL
    from rasa.shared.core.domain import Domain

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

    global _original, _original_is_empty
    _original = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result
    _original_is_empty = Domain.is_empty
    Domain.is_empty = _is_empty_once
    _installed = True
    logger.debug("Rasa speed-ups installed")


def uninstall() -> None:
    """Puts Rasa's own validator back (for tests)."""
    global _installed
    if not _installed:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain

    RemoteAction._validate_action_result = _original
    Domain.is_empty = _original_is_empty
    _installed = False
