"""The one client of the Rasa server the web app uses: REST webhook and tracker, on loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


class RasaUnavailable(RuntimeError):
    """The Rasa server could not be reached or answered with an error."""


@dataclass(frozen=True)
class RasaClient:
    """Talks to Rasa on behalf of the browser, so the API token never leaves the server."""

    base_url: str
    token: str
    timeout_s: float = 30.0

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url.rstrip("/") + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read() or b"null")
        except (urllib.error.URLError, OSError, ValueError) as error:
            # The path without its query string: that is where the token travels.
            raise RasaUnavailable(f"{method} {path.split('?')[0]}: {error}") from error

    def send(self, sender_id: str, text: str, client_id: str | None = None) -> list[dict]:
        """The bot's replies to one patient message (shape: ``bot.rasa_server.channels``).

        ``client_id`` travels as message metadata: a resend after a lost reply then reuses the
        same escalation instead of opening a second one."""
        body: dict = {"sender": sender_id, "message": text}
        if client_id:
            body["metadata"] = {"client_id": client_id}
        replies = self._call("POST", "/webhooks/rest/webhook", body)
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected reply from the REST channel")
        return replies

    def events(self, sender_id: str) -> list[dict]:
        """Every event of the conversation (needs the token)."""
        query = urllib.parse.urlencode({"token": self.token})
        path = f"/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker?{query}"
        tracker = self._call("GET", path)
        return tracker.get("events", []) if isinstance(tracker, dict) else []

    def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Adds events (a staff reply, a slot) to the conversation (needs the token)."""
        query = urllib.parse.urlencode({"token": self.token})
        path = f"/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker/events?{query}"
        self._call("POST", path, events)
