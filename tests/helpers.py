"""What several test modules share: paths, free ports, real servers, fakes at the edges, and
clients that talk to the running servers the way real ones do."""

from __future__ import annotations

import http.cookiejar
import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings
from bot.web.rasa_client import RasaUnavailable

CONTENT_DIR = PROJECT_ROOT / "data" / "content"


def always_open_content(target: Path) -> Path:
    """A copy of the content whose clinic never closes: tests of running servers then do not
    depend on the hour they run at (the opening hours have tests of their own)."""
    import shutil

    import yaml

    shutil.copytree(CONTENT_DIR, target, dirs_exist_ok=True)
    clinic = target / "clinic.yml"
    raw = yaml.safe_load(clinic.read_text(encoding="utf-8"))
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    raw["opening_hours"] = {"time_zone": "UTC", **{day: "00:00-24:00" for day in days}}
    clinic.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_servers(settings: Settings, model: Path, **ports: int):
    """Real action, Rasa and web servers on free loopback ports (unless given), warm."""
    from bot.ops.servers import ServerSet

    server_set = ServerSet(
        settings,
        model,
        token=uuid.uuid4().hex,
        rasa_port=ports.get("rasa_port") or free_port(),
        action_port=ports.get("action_port") or free_port(),
        web_port=ports.get("web_port") or free_port(),
        log_dir=settings.var_dir / "logs",
    )
    server_set.start()
    return server_set


def start_postgres(tmp_path_factory: pytest.TempPathFactory):
    """A throwaway PostgreSQL server on loopback; skips where its binaries are missing."""
    from bot.ops.postgres import LocalPostgres, pg_bin
    from bot.ops.servers import ServerError

    try:
        pg_bin("initdb")
    except ServerError:
        pytest.skip("PostgreSQL server binaries not installed (make test installs them)")
    server = LocalPostgres(tmp_path_factory.mktemp("pg"), free_port())
    server.start()
    return server


class FakeRasa:
    """Records what the web app sends; answers like the REST channel does."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False
        self.events_by_sender: dict[str, list[dict]] = {}

    def send(self, sender_id: str, text: str, client_id: str | None = None) -> list[dict]:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.sent.append((sender_id, text))
        return [
            {
                "recipient_id": sender_id,
                "text": f"reply to {text}",
                "buttons": [{"title": "Does it hurt?", "payload": "/ask_injection_pain"}],
                "metadata": {"kind": "answer", "answer_id": "x"},
            }
        ]

    def events(self, sender_id: str) -> list[dict]:
        if self.down:
            raise RasaUnavailable("connection refused")
        return self.events_by_sender.get(sender_id, [])

    def append_events(self, sender_id: str, events: list[dict]) -> None:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.events_by_sender.setdefault(sender_id, []).extend(events)


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
