"""Rasa's REST and socket.io channels, sending each bot message as one object with metadata.

Rasa's own output channels split a message into separate text and custom-JSON messages and drop
extra keys. These keep ``text``, ``buttons`` and the action's ``reply_metadata`` together, so a
widget can tell an answer (with its source) from a handoff or an urgent instruction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

logger = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 255  # the tracker store's sender_id column

from bot.config import MAX_MESSAGE_LENGTH  # noqa: E402
from bot.rasa_server.textclean import clean_message  # noqa: E402
from bot.reply import REPLY_METADATA_KEY, SMALLTALK  # noqa: E402


async def _safe_reply(message: UserMessage) -> dict[str, Any] | None:
    """Sent when processing produced no reply (action server down, a crash): never silence,
    except the assistant's deliberate quiet while a person replies (None)."""
    from bot.rasa_server.recovery import recover

    return await recover(message.sender_id, message.text, message.message_id, message.metadata)


def bot_message(message: dict[str, Any]) -> dict[str, Any]:
    """The public shape of one bot message: text, buttons, metadata."""
    out: dict[str, Any] = {"text": message.get("text") or ""}
    if message.get("buttons"):
        out["buttons"] = [
            {"title": b.get("title", ""), "payload": b.get("payload", "")}
            for b in message["buttons"]
        ]
    if message.get("custom"):
        out["custom"] = message["custom"]
    out["metadata"] = dict(message.get(REPLY_METADATA_KEY) or {"kind": SMALLTALK})
    return out


class MetadataCollectingOutputChannel(CollectingOutputChannel):
    """Collects whole bot messages for the REST response."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self._persist_message({"recipient_id": recipient_id, **bot_message(message)})


class MetadataRestInput(RestInput):
    """``POST /webhooks/rest/webhook``: ``{"sender", "message"}`` in, a list of messages out."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MetadataRestInput:
        from bot.rasa_server import hooks_installed, install_hooks

        if not hooks_installed():
            # Started as plain `rasa run`, not `python -m bot.rasa_server`: install the hooks
            # here too rather than let Rasa's error logs carry patient text.
            logger.warning("Rasa was not started with `python -m bot.rasa_server`")
            install_hooks()
        return cls()

    def get_output_channel(self) -> CollectingOutputChannel:
        return MetadataCollectingOutputChannel()

    # A malformed request is the client's error: answer 400 with the reason, not a guess.
    @staticmethod
    def _body(req: Request) -> dict[str, Any]:
        body = req.json
        if not isinstance(body, dict):
            raise InvalidUsage('expected a JSON object {"sender": "...", "message": "..."}')
        return body

    async def _extract_sender(self, req: Request) -> str | None:
        sender = self._body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
            raise InvalidUsage(
                f'"sender" must be a non-empty string of at most {MAX_SENDER_LENGTH} characters'
            )
        return sender

    def get_metadata(self, req: Request) -> dict[str, Any] | None:
        metadata = self._body(req).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def _extract_message(self, req: Request) -> str | None:
        message = self._body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage('"message" must be a string')
        if len(message) > MAX_MESSAGE_LENGTH:
            raise InvalidUsage(f'"message" is longer than {MAX_MESSAGE_LENGTH} characters')
        return message

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # RestInput builds a plain CollectingOutputChannel inside its handler and returns its
        # list; ours writes whole messages into that same list.
        async def with_metadata(message: UserMessage) -> Any:
            message.text = clean_message(message.text or "")
            original = message.output_channel
            if type(original) is not CollectingOutputChannel:
                return await on_new_message(message)  # streaming: Rasa's own behaviour
            collector = MetadataCollectingOutputChannel()
            collector.messages = original.messages
            message.output_channel = collector
            try:
                return await on_new_message(message)
            finally:
                if not collector.messages and (safe := await _safe_reply(message)):
                    await collector.send_response(message.sender_id, safe)

        return super().blueprint(with_metadata)


def socketio_allowed_origins() -> list[str] | None:
    """``CLINIC_ALLOWED_ORIGINS`` or None: engine.io's same-origin check."""
    from bot.config import allowed_origins

    return allowed_origins() or None


class MetadataSocketIOOutput(SocketIOOutput):
    """Emits each bot message as one ``bot_uttered`` event with text, quick replies, metadata."""

    sent = 0

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        payload = bot_message(message)
        if "buttons" in payload:
            payload["quick_replies"] = [
                {"content_type": "text", **button} for button in payload["buttons"]
            ]
        await self._send_message(recipient_id, payload)


class MetadataSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with :class:`MetadataSocketIOOutput`."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> SocketIOOutput | None:
        channel = super().get_output_channel()
        if channel is None:
            return None
        return MetadataSocketIOOutput(channel.sio, channel.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_metadata(message: UserMessage) -> Any:
            message.text = clean_message(message.text or "")[:MAX_MESSAGE_LENGTH]
            channel = message.output_channel
            if not isinstance(channel, SocketIOOutput):
                return await on_new_message(message)
            output = MetadataSocketIOOutput(channel.sio, channel.bot_message_evt)
            message.output_channel = output
            try:
                return await on_new_message(message)
            finally:
                if output.sent == 0 and (safe := await _safe_reply(message)):
                    await output.send_response(message.sender_id, safe)

        blueprint = super().blueprint(with_metadata)
        sio = blueprint.ctx.sio
        # Rasa builds the server with cors_allowed_origins=[], which turns engine.io's Origin
        # check off; browsers apply no CORS to WebSockets, so any site could open a session.
        # Same origin only, plus the origins the clinic lists.
        sio.eio.cors_allowed_origins = socketio_allowed_origins()

        # Rasa 3.6 calls ``sio.enter_room`` without ``await``; in python-socketio 5.10+ it is a
        # coroutine, so the client never joined its room and never got a reply. Same handler,
        # awaited.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SENDER_LENGTH:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        return blueprint


__all__: list[str] = [
    "MetadataCollectingOutputChannel",
    "MetadataRestInput",
    "MetadataSocketIOInput",
    "MetadataSocketIOOutput",
    "REPLY_METADATA_KEY",
    "bot_message",
]
