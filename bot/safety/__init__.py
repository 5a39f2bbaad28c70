"""The safety layer: red-flag reports, personal clinical questions, other languages.

``spec`` reads the clinician-reviewed specification in ``data/safety/`` (red flags, cues,
phrases, personal clinical context); ``detector`` applies it clause by clause; ``classifier`` is
the learned check; ``language`` detects the patient's language; ``evaluation`` scores a set.
"""

from bot.safety.detector import SafetyDetector, SafetyMatch, build_nlp

__all__ = ["SafetyDetector", "SafetyMatch", "build_nlp"]
