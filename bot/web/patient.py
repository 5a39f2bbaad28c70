"""The patient page and the chat API the widget calls (same origin; Rasa stays on loopback)."""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, session
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from bot.config import MAX_MESSAGE_LENGTH
from bot.content.messages import Messages, WebTexts
from bot.rasa_server.textclean import clean_message
from bot.reply import ERROR
from bot.web.rasa_client import RasaUnavailable

logger = logging.getLogger(__name__)
blueprint = Blueprint("patient", __name__)

GREET_PAYLOAD = "/greet"  # what the widget sends to open a conversation
_RECENT = 2000  # remembered client message ids, so a retried send is not processed twice


class RateLimiter:
    """At most ``limit`` messages per ``window_s`` seconds per key (a sliding window).

    In memory, per web process: a patient's messages go to the process holding their session
    cookie only by chance behind a balancer, so nginx also limits per address (deploy/)."""

    def __init__(self, limit: int, window_s: float, clock=time.monotonic) -> None:  # noqa: ANN001
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Takes one slot for ``key``: 0 when allowed, else the seconds until one frees up."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.window_s - now, 0.001)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle senders so memory stays bounded
                for idle in [
                    k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s
                ]:
                    del self._hits[idle]
            return 0.0


def parse_rate_limit(value: str) -> tuple[int, float]:
    """``"12/60"`` -> (12, 60.0): messages per seconds.

    Raises:
        ValueError: for anything else, naming the setting.
    """
    try:
        count, seconds = value.split("/")
        limit, window = int(count), float(seconds)
    except ValueError:
        raise ValueError(f"CLINIC_CHAT_RATE_LIMIT must look like 12/60, not {value!r}") from None
    if limit < 1 or window <= 0:
        raise ValueError(f"CLINIC_CHAT_RATE_LIMIT must be positive, not {value!r}")
    return limit, window


class RecentReplies:
    """Replies by (sender, client message id): a resend after a dropped connection gets the
    same reply instead of a second escalation."""

    def __init__(self, size: int = _RECENT) -> None:
        self._items: OrderedDict[tuple[str, str], list[dict]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> list[dict] | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[str, str], replies: list[dict]) -> None:
        with self._lock:
            self._items[key] = replies
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def init_app(app) -> None:  # noqa: ANN001
    # Loaded and checked once: a page quote missing from the guide stops the app from starting.
    app.extensions["web_texts"] = WebTexts.load(app.config["SETTINGS"].content_dir)
    app.extensions["recent_replies"] = RecentReplies()
    app.extensions["chat_rate_limiter"] = RateLimiter(
        *parse_rate_limit(app.config["CHAT_RATE_LIMIT"])
    )
    app.register_blueprint(blueprint)

    @app.errorhandler(413)
    def _too_large(error):  # noqa: ANN001, ANN202 - the chat API answers in JSON, always
        if request.path.startswith("/api/"):
            limit = app.config["MAX_CONTENT_LENGTH"]
            return jsonify(error=f"the request is larger than {limit} bytes"), 413
        return error


@blueprint.before_request
def _same_origin_only() -> ResponseReturnValue | None:
    """The chat API answers the site's own pages (and origins listed in CLINIC_ALLOWED_ORIGINS),
    never a page elsewhere that a patient happens to have open."""
    origin = request.headers.get("Origin")
    if request.method == "GET" or origin is None:
        return None
    allowed = {request.host_url.rstrip("/")} | set(current_app.config["ALLOWED_ORIGINS"])
    if origin.rstrip("/") not in allowed:
        return jsonify(error="cross-origin requests are not accepted"), 403
    return None


def _sender_id() -> str:
    """The conversation id lives in the signed, HttpOnly session cookie, never in page script."""
    if "sender_id" not in session:
        session["sender_id"] = f"web-{uuid.uuid4().hex}"
        session.permanent = True
    return session["sender_id"]


def _messages() -> Messages:
    return current_app.extensions["clinic_messages"]


def _public(reply: dict) -> dict[str, Any]:
    out = {"text": reply.get("text") or "", "metadata": reply.get("metadata") or {}}
    if reply.get("buttons"):
        out["buttons"] = [
            {"title": b.get("title", ""), "payload": b.get("payload", "")} for b in reply["buttons"]
        ]
    return out


def _unavailable_reply() -> dict[str, Any]:
    return {"text": _messages().text("error"), "metadata": {"kind": ERROR}}


@blueprint.get("/")
def index() -> str:
    _sender_id()
    texts: WebTexts = current_app.extensions["web_texts"]
    clinic = _messages().clinic
    return render_template(
        "index.html",
        clinic=clinic,
        page=texts,
        page_text=_filler(texts.page, clinic),
        widget_text=_filler(texts.widget, clinic),
    )


def _link(href: str, text: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


def _filler(strings: dict[str, str], clinic: dict[str, str]) -> Callable[..., Markup]:
    """``text(key, **extra)`` for the template: the content string ``key``, escaped, with clinic
    facts (and ``{phone_link}``-style links to them) filled in; ``extra`` values may be markup."""
    values = {
        **clinic,
        "phone_link": _link("tel:" + clinic["phone"].replace(" ", ""), clinic["phone"]),
        "email_link": _link("mailto:" + clinic["email"], clinic["email"]),
        "emergency_link": _link(
            "tel:" + clinic["emergency_number"].replace(" ", ""), clinic["emergency_number"]
        ),
    }

    def text(key: str, **extra: str) -> Markup:
        if key not in strings:
            # A page with one label missing beats no page; the tests check every key exists.
            logger.error("page text %r is missing from widget.yml", key)
            return escape(key)
        try:
            return Markup(escape(strings[key])).format(**values, **extra)
        except (KeyError, IndexError, ValueError):  # an unknown or broken {placeholder}
            logger.error("page text %r has a placeholder the page cannot fill", key)
            return escape(strings[key])

    return text


@blueprint.post("/api/chat")
def chat() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error='expected a JSON object {"message": "...", "client_id": "..."}'), 400
    text, client_id = body.get("message"), body.get("client_id")
    if not isinstance(text, str):
        return jsonify(error="message must be a non-empty string"), 400
    if len(text) > MAX_MESSAGE_LENGTH:
        return jsonify(error=f"message is longer than {MAX_MESSAGE_LENGTH} characters"), 400
    text = clean_message(text)
    if not text:
        return jsonify(error="message must be a non-empty string"), 400
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        return jsonify(error="client_id must be a string of 8 to 64 characters"), 400
    if (
        text.startswith("/")
        and text != GREET_PAYLOAD
        and text[1:] not in _messages().payload_titles()
    ):
        # "/intent{...}" is Rasa's syntax for a button press: only our own buttons may use it.
        text = text.lstrip("/").strip() or "/"
    sender = _sender_id()
    key = (sender, client_id)
    recent = current_app.extensions["recent_replies"]
    cached = recent.get(key)
    if cached is not None:
        return jsonify(messages=cached, repeated=True)  # a resend: not counted again
    wait_s = current_app.extensions["chat_rate_limiter"].acquire(sender)
    if wait_s:
        response = jsonify(
            error="You are sending messages faster than we can answer. Please wait a moment.",
            retry_after=math.ceil(wait_s),
        )
        response.headers["Retry-After"] = str(math.ceil(wait_s))
        return response, 429
    try:
        replies = [
            _public(r) for r in current_app.extensions["rasa_client"].send(sender, text, client_id)
        ]
    except RasaUnavailable as error:
        logger.error("chat message could not be delivered to Rasa: %s", error)
        return jsonify(messages=[_unavailable_reply()], delivered=False), 503
    recent.put(key, replies)
    return jsonify(messages=replies)


@blueprint.get("/api/history")
def history() -> ResponseReturnValue:
    if "sender_id" not in session:
        return jsonify(messages=[])
    try:
        events = current_app.extensions["rasa_client"].events(session["sender_id"])
    except RasaUnavailable as error:
        logger.error("history could not be read from Rasa: %s", error)
        return jsonify(messages=[], error="history unavailable"), 503
    return jsonify(messages=conversation_turns(events, _messages().payload_titles()))


def conversation_turns(events: list[dict], titles: dict[str, str]) -> list[dict[str, Any]]:
    """Patient and bot turns for the widget; button payloads shown by their titles."""
    turns: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") == "user":
            text = event.get("text") or ""
            if text.startswith("/"):
                title = titles.get(text[1:])
                if title is None:
                    continue  # e.g. the widget's opening "/greet"
                text = title
            turns.append({"who": "patient", "text": text})
        elif event.get("event") == "bot":
            data = event.get("data") or {}
            meta = (event.get("metadata") or {}).get("reply_metadata") or {"kind": "smalltalk"}
            turn: dict[str, Any] = {"who": "bot", "text": event.get("text") or "", "metadata": meta}
            if data.get("buttons"):
                turn["buttons"] = [
                    {"title": b.get("title", ""), "payload": b.get("payload", "")}
                    for b in data["buttons"]
                ]
            turns.append(turn)
    return turns
