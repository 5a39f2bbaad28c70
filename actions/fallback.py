"""When the model is unsure: say so, suggest likely topics, and hand over on the second miss."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import FALLBACK, messages, reply
from actions.handoff import hand_off
from bot.intents import ADMIN_INTENTS, FAQ_INTENTS, NLU_FALLBACK

SUGGESTIONS = 3
# A suggestion must be at least this likely to be worth a button.
MIN_SUGGESTION_CONFIDENCE = 0.05


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest patient messages in a row the model did not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != NLU_FALLBACK:
            break
        count += 1
    return count


def suggestions(tracker: Tracker) -> list[str]:
    """The likeliest FAQ/admin intents from the ranking of the latest message."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    return [
        r["name"]
        for r in ranking
        if r.get("name") in FAQ_INTENTS | ADMIN_INTENTS
        and (r.get("confidence") or 0) >= MIN_SUGGESTION_CONFIDENCE
    ][:SUGGESTIONS]


class ActionFallback(Action):
    """``action_fallback``: the NLU fallback and the policies' core fallback."""

    def name(self) -> str:
        return "action_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if consecutive_fallbacks(tracker) >= 2:
            return hand_off(dispatcher, tracker, "fallback")
        suggested = suggestions(tracker)
        buttons = messages().suggestion_buttons(suggested) + messages().button_list(
            "talk_to_person"
        )
        text = messages().text("fallback" if suggested else "fallback_no_suggestions")
        reply(dispatcher, text, FALLBACK, buttons=buttons, suggestions=suggested)
        return []
