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


def test_a_channel_of_a_plain_rasa_run_still_installs_the_log_redaction(monkeypatch):
    import bot.rasa_server as rasa_server
    from bot.rasa_server import logredact, speedups
    from bot.rasa_server.channels import MetadataRestInput

    monkeypatch.setattr(rasa_server, "_hooks_installed", False)
    monkeypatch.setattr(logredact, "_installed", False)
    try:
        MetadataRestInput.from_credentials(None)
        assert rasa_server.hooks_installed() and logredact._installed
    finally:
        speedups.uninstall()  # the patch is process-wide: undone for the other tests
