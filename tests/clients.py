"""Clients that talk to the running servers the way real ones do."""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.error
import urllib.request
import uuid


class Patient:
    """The widget's side of the chat API: a cookie session, and a resend (same client id)
    after a 503, as widget.js does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.opener.open(f"{base_url}/", timeout=10).read()  # the page sets the session cookie
        self.retries = 0

    def say(self, text: str, attempts: int = 5) -> list[dict]:
        body = json.dumps({"message": text, "client_id": uuid.uuid4().hex}).encode()
        for attempt in range(attempts):
            request = urllib.request.Request(
                f"{self.base_url}/api/chat",
                data=body,
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with self.opener.open(request, timeout=60) as response:
                    return json.loads(response.read())["messages"]
            except urllib.error.HTTPError as error:
                if error.code != 503 or attempt == attempts - 1:
                    raise
                self.retries += 1
                time.sleep(1)
        raise AssertionError("unreachable")

    def post(
        self, body: dict | list | str | bytes, path: str = "/api/chat", headers: dict | None = None
    ) -> tuple[int, object]:
        """One raw request (no resend): the status and the decoded JSON (or text) reply."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")
