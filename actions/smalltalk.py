"""Greetings, thanks, goodbyes, "are you a bot", yes/no and out-of-scope replies."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import SMALLTALK, latest_intent, messages, reply
from bot.intents import SMALLTALK_INTENTS


class ActionSmalltalk(Action):
    """``action_smalltalk``: one vetted message per conversational intent."""

    def name(self) -> str:
        return "action_smalltalk"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker).get("name") or ""
        key = intent if intent in SMALLTALK_INTENTS else "out_of_scope"
        buttons = messages().button_list("greet") if key == "greet" else []
        if key == "out_of_scope":
            buttons = messages().button_list("greet") + messages().button_list("talk_to_person")
        reply(dispatcher, messages().text(key), SMALLTALK, buttons=buttons, intent=key)
        return []
