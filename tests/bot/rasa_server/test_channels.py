"""The reply contract: one message per bot utterance, with text, buttons and metadata."""

from __future__ import annotations

import asyncio

from bot.rasa_server.channels import MetadataCollectingOutputChannel, bot_message
from bot.reply import REPLY_METADATA_KEY


def test_bot_message_keeps_text_buttons_and_metadata_together():
    message = {
        "text": "The entire process typically takes about 15 minutes.",
        "buttons": [{"title": "Does it hurt?", "payload": "/ask_injection_pain"}],
        REPLY_METADATA_KEY: {"kind": "answer", "answer_id": "session-length"},
        "timestamp": 1.0,
        "image": None,
    }
    assert bot_message(message) == {
        "text": "The entire process typically takes about 15 minutes.",
        "buttons": [{"title": "Does it hurt?", "payload": "/ask_injection_pain"}],
        "metadata": {"kind": "answer", "answer_id": "session-length"},
    }


def test_a_message_without_metadata_is_marked_smalltalk():
    assert bot_message({"text": "hi"})["metadata"] == {"kind": "smalltalk"}


def test_collecting_channel_does_not_split_paragraphs():
    channel = MetadataCollectingOutputChannel()
    text = "First paragraph.\n\nSecond paragraph."
    asyncio.run(channel.send_response("p1", {"text": text, REPLY_METADATA_KEY: {"kind": "answer"}}))
    assert channel.messages == [
        {"recipient_id": "p1", "text": text, "metadata": {"kind": "answer"}}
    ]
