"""Understanding a message in its conversation: follow-up questions and two questions at once.

Rasa's NLU sees one message at a time, so "can I drive after?" then "and gym?" left the second
unclear, and "how long does it take and does it hurt?" got one answer. This hook wraps
``MessageProcessor.parse_message`` (which has the conversation's tracker) and, after the normal
parse with its safety check, may add:

- ``questions``: when the message holds two or three questions (``bot.nlu.questions``), each part
  is parsed on its own; the FAQ and admin topics found, in order, with whether a part is
  personal (clinical). ``actions/answers.py`` and ``actions/handoff.py`` answer each.
- ``context``: when the classifier is unsure of a message, it is parsed again together with the
  patient's previous question (or, after a button, the answered topic's title); a confident FAQ
  or admin topic from that replaces the unsure one. A sure parse changes only for a short FAQ
  question that reads as part of the previous one ("how long do they last?" after the side
  effects, "for how long?" after "how often do I need it?"), when the two read together are
  clearly surer of another topic (never small talk, an admin question, which goes to staff, or
  the serious risks). A sure "out of scope" that starts like a continuation ("what about
  swimming", "and makeup?") is read with the previous question too, against a higher bar.

Context never lowers safety: a message the safety layer judged urgent, clinical or in another
language on its own words is left exactly as it is, a contextual parse is used only when it
found an answerable topic, and a part in which the red-flag rules read an emergency (or the
intent classifier one in another language) makes the whole message urgent. A part that only the
learned check or the English intent classifier calls urgent goes to a person instead: read
alone, fragments such as "I work nights at the hospital" looked like reports (on the development
sets these verdicts made 53 messages urgent and not one of them was), and the whole message
has had the full safety check already.

The whole parse (Rasa's NLU graph, then these extra parses) runs in one worker thread, off
Rasa's event loop: while a message is being understood, the loop goes on receiving other
patients' messages and reading and writing trackers. One thread, because the NLU holds the GIL
except inside ONNX Runtime.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from bot.intents import (
    ADMIN_INTENTS,
    CLINICAL,
    FAQ_INTENTS,
    NLU_FALLBACK,
    OTHER_LANGUAGE,
    URGENT_SYMPTOMS,
)
from bot.rasa_server.questions import MAX_QUESTIONS, split_questions

logger = logging.getLogger(__name__)

ANSWERABLE = FAQ_INTENTS | ADMIN_INTENTS
# Below this the classifier is "unsure" and the conversation may help (FallbackClassifier: 0.30).
UNSURE_BELOW = 0.5
# What a parse of one question or of "previous question + this message" must reach to count.
PART_MIN = 0.45
CONTEXT_MIN = 0.45
# A sure parse of a question this short may be part of the previous one ("for how long?").
SHORT_MAX_WORDS = 8
# How much surer the two questions read together must be: the previous question's words pull
# the combined parse towards its own topic, so being a little surer proves nothing.
SURE_MARGIN = 0.1
SERIOUS_RISKS = "ask_serious_risks"
_WORD = re.compile(r"[a-z']+")
# Small talk the context may reinterpret when unsure ("and gym?" read as out of scope, "who
# will I see" as goodbye).
_REINTERPRETABLE = ANSWERABLE | {
    NLU_FALLBACK, "out_of_scope", "affirm", "deny", "goodbye", "greet", "thank"
}  # fmt: skip
OUT_OF_SCOPE = "out_of_scope"
# A sure "out of scope" that starts like the rest of a sentence ("what about swimming", "and
# makeup?") is read with the previous question too, and moves only when that is this sure.
CONTINUING_MIN = 0.8
_CONTINUES = re.compile(r"^\W*(?:and|or|also|plus|same|even|what about|how about)\b")

_installed = False
_original: Any = None
_executor: ThreadPoolExecutor | None = None


def nlu_executor() -> ThreadPoolExecutor:
    """The NLU thread, created on first use (never at import)."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
    return _executor


def install() -> None:
    """Wraps ``MessageProcessor.parse_message``; once per process."""
    global _installed, _original
    if _installed:
        return
    from rasa.core.processor import MessageProcessor

    _original = MessageProcessor.parse_message

    async def parse_message(
        self: MessageProcessor,
        message: Any,
        tracker: Any = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if self.http_interpreter is not None:
            return await _original(self, message, tracker, only_output_properties)
        parse = await asyncio.get_running_loop().run_in_executor(
            nlu_executor(), understand, self, message, tracker, only_output_properties
        )
        # What Rasa's own parse_message does after the graph, unchanged.
        self._update_full_retrieval_intent(parse)
        self._check_for_unseen_features(parse)
        return parse

    MessageProcessor.parse_message = parse_message
    _installed = True


def uninstall() -> None:
    global _installed
    if _installed:
        from rasa.core.processor import MessageProcessor

        MessageProcessor.parse_message = _original
        _installed = False


def understand(
    processor: Any, message: Any, tracker: Any, only_output_properties: bool = True
) -> dict[str, Any]:
    """Rasa's NLU graph on ``message``, then :func:`refine` with its conversation (in the
    NLU thread). Without a tracker (``/model/parse``, the evaluations) the message is understood
    as the first of a new conversation: several questions are still found, context is not."""
    from rasa.shared.core.trackers import DialogueStateTracker

    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    text = message.text or ""
    parts = split_questions(text) if not text.startswith("/") else []
    parsed: dict[str, dict[str, Any]] = {}
    parse: dict[str, Any] | None = None
    if len(parts) > 1:
        # The message and its questions in one graph run: MiniLM embeds them in one batch
        # instead of once per question.
        try:
            messages = [message, *(_sibling(message, part) for part in parts)]
            flags = [only_output_properties] + [True] * len(parts)
            together = _run_graph(processor, messages, tracker, flags)
            parse, parsed = together[0], dict(zip(parts, together[1:], strict=True))
        except Exception:  # noqa: BLE001 - a question part must never cost the message its parse
            logger.exception("parsing the questions of a message together failed")
    if parse is None:
        parse = processor._parse_message_with_graph(message, tracker, only_output_properties)

    def parse_text(other: str) -> dict[str, Any]:
        if other in parsed:
            return parsed[other]
        return _run_graph(processor, [_sibling(message, other)], tracker, [True])[0]

    try:
        refine(parse_text, parse, tracker)
    except Exception:  # noqa: BLE001 - the message keeps its own parse, never gets lost
        logger.exception("contextual understanding failed for %s", message.sender_id)
    return parse


def _sibling(message: Any, text: str) -> Any:
    """A message with ``text`` from the same patient, channel and metadata."""
    from rasa.core.channels.channel import UserMessage

    return UserMessage(
        text=text,
        sender_id=message.sender_id,
        metadata=message.metadata,
        input_channel=message.input_channel,
    )


def _run_graph(
    processor: Any, messages: list[Any], tracker: Any, only_output: list[bool]
) -> list[dict[str, Any]]:
    """What ``MessageProcessor._parse_message_with_graph`` returns, for several messages in one
    run of the NLU graph (its components process lists of messages)."""
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.nlu.constants import (
        ENTITIES,
        INTENT,
        INTENT_NAME_KEY,
        PREDICTED_CONFIDENCE_KEY,
        TEXT,
    )

    target = processor.model_metadata.nlu_target
    results = processor.graph_runner.run(
        inputs={PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker}, targets=[target]
    )
    parses = []
    for parsed, only in zip(results[target], only_output, strict=True):
        data: dict[str, Any] = {
            TEXT: "",
            INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
            ENTITIES: [],
        }
        data.update(parsed.as_dict(only_output_properties=only))
        parses.append(data)
    return parses


def _intent(parse: dict[str, Any]) -> tuple[str, float]:
    intent = parse.get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def refine(parse_text: Any, parse: dict[str, Any], tracker: Any) -> None:
    """Adds ``questions`` or ``context`` to ``parse`` in place (see the module docstring).
    ``parse_text(text)`` runs the whole NLU pipeline, safety check included, on ``text``."""
    text = parse.get("text") or ""
    name, confidence = _intent(parse)
    if text.startswith("/") or name in (URGENT_SYMPTOMS, OTHER_LANGUAGE):
        return  # a button, or decided by the safety check: left exactly as it is
    parts = split_questions(text)
    if len(parts) > 1 and _several_questions(parse_text, parse, parts):
        return
    if name == CLINICAL or name not in _REINTERPRETABLE:
        return
    sure = name != NLU_FALLBACK and confidence >= UNSURE_BELOW
    continuing = name == OUT_OF_SCOPE and is_short(text) and bool(_CONTINUES.match(text.lower()))
    if continuing:
        sure = False  # judged like an unsure parse, against a higher bar (CONTINUING_MIN)
    if sure and (name not in FAQ_INTENTS or name == SERIOUS_RISKS or not is_short(text)):
        # Admin questions go to staff, small talk stays small talk, and "are they dangerous?"
        # keeps the serious-risks answer with its urgent button: only short FAQ questions move.
        return
    before = previous_question(tracker)
    if not before:
        return
    combined = parse_text(f"{before} {text}")
    found, found_confidence = _intent(combined)
    if sure and (found == name or found_confidence < confidence + SURE_MARGIN):
        # A sure parse changes only for a short question that reads as part of the previous
        # one: "how long do they last?" after the side effects, "for how long?" after "how
        # often do I need it?" (alone: the session length), "till when?": read with the
        # previous question, clearly surer of another topic ("does that hurt?" stays).
        return
    if found in ANSWERABLE and found_confidence >= (CONTINUING_MIN if continuing else CONTEXT_MIN):
        parse["context"] = {"from_intent": name, "from_confidence": confidence}
        parse["intent"] = {"name": found, "confidence": found_confidence}
        parse["intent_ranking"] = combined.get("intent_ranking") or [parse["intent"]]


def _several_questions(parse_text: Any, parse: dict[str, Any], parts: list[str]) -> bool:
    """Parses each part; records ``questions`` when two or more topics were found."""
    questions: list[dict[str, Any]] = []
    flagged = False  # a part only the classifiers call urgent
    for part in parts:
        part_parse = parse_text(part)
        name, confidence = _intent(part_parse)
        if name == URGENT_SYMPTOMS and _stays_urgent(part_parse):
            # Only ever raises safety: the whole message takes the urgent part's verdict.
            parse["intent"] = dict(part_parse["intent"])
            parse["intent_ranking"] = part_parse.get("intent_ranking") or [parse["intent"]]
            parse["safety"] = part_parse.get("safety") or {}
            return True
        if name in (CLINICAL, URGENT_SYMPTOMS):
            # A part that only the classifiers call urgent, read without the rest of the
            # message ("I work nights at the hospital so days are hard"): a person reads it.
            flagged = flagged or name == URGENT_SYMPTOMS
            questions.append({"intent": CLINICAL, "confidence": confidence, "personal": True})
        elif (
            name in ANSWERABLE
            and confidence >= PART_MIN
            and all(q["intent"] != name for q in questions)
        ):
            questions.append({"intent": name, "confidence": confidence, "personal": False})
    topics = [q for q in questions if not q["personal"]]
    whole, _ = _intent(parse)
    if len(questions) < 2 or not topics:
        if flagged and whole not in (CLINICAL, URGENT_SYMPTOMS):
            # Never a general answer alone when a part may report something: staff read it.
            parse["intent"] = {"name": CLINICAL, "confidence": 1.0}
            return True
        return False
    parse["questions"] = questions[:MAX_QUESTIONS]
    if whole != CLINICAL and any(q["personal"] for q in parse["questions"]):
        # One part is personal: the message goes to staff, after the general answers.
        parse["intent"] = {"name": CLINICAL, "confidence": 1.0}
    elif whole != CLINICAL:
        first = topics[0]
        parse["intent"] = {"name": first["intent"], "confidence": first["confidence"]}
    return True


def _stays_urgent(parse: dict[str, Any]) -> bool:
    """Whether an urgent part makes the whole message urgent: the red-flag rules found it, the
    safety check failed, or the intent classifier found it in a message not (only) in English
    (kept urgent on purpose by the safety layer). Not when only the learned check or the
    English intent classifier calls the part urgent."""
    safety = parse.get("safety") or {}
    return bool(safety.get("fired")) and safety.get("source") in ("rules", "error", "intent")


def is_short(text: str) -> bool:
    """Short enough to be part of the previous question ("for how long?", "till when?"). Every
    short, sure FAQ question in a conversation is read once more with the previous one (one
    more MiniLM run): limiting that to questions that start like the rest of a sentence was
    tried and cost 2 of 73 sealed follow-ups (0.904 -> 0.877)."""
    return len(_WORD.findall(text.lower())) <= SHORT_MAX_WORDS


def previous_question(tracker: Any) -> str | None:
    """The patient's previous message, or after a button the answered topic's title."""
    for event in reversed(list(tracker.events)):
        if getattr(event, "type_name", "") != "user":
            continue
        text = (event.text or "").strip()
        if text and not text.startswith("/"):
            return text
        intent = (event.intent or {}).get("name")
        return _topic_titles().get(intent) if intent in ANSWERABLE else None
    return None


@lru_cache(maxsize=1)
def _topic_titles() -> dict[str, str]:
    """The suggestion button titles of messages.yml ("What can I do after a session?")."""
    from bot.config import load_settings
    from bot.content.messages import Messages

    return dict(Messages.load(load_settings().content_dir).suggestions)
