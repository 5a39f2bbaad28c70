"""The safety layer: red-flag reports, personal clinical questions, other languages.

``spec`` reads the clinician-reviewed specification in ``data/safety/``; ``detector`` applies
its patterns clause by clause; ``clinical`` holds the personal-context rules.
"""

from bot.safety.detector import SafetyDetector, SafetyMatch, build_nlp

__all__ = ["SafetyDetector", "SafetyMatch", "build_nlp"]
