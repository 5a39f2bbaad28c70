"""The optional urgent-escalation webhook, against a real local HTTP receiver."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import bot.cases.notify as notify_module
from bot.cases.escalations import EscalationRequest, EscalationWriter
from bot.cases.notify import UrgentNotifier
from tests.helpers import free_port


@pytest.fixture
def receiver():
    """A fake webhook receiver on loopback that records what it is sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # keep test output clean
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def _request(priority: str) -> EscalationRequest:
    return EscalationRequest(
        dedup_key=uuid.uuid4().hex,
        conversation_id="web-1",
        reason=priority,
        priority=priority,
        transcript=[{"who": "patient", "text": "my secret symptom"}],
    )


def test_urgent_escalation_is_announced_without_patient_text(database_url, tmp_path, receiver):
    url, received = receiver
    notifier = UrgentNotifier(url, "https://clinic.example")
    writer = EscalationWriter(database_url, tmp_path, notifier)
    escalation_id = writer.write(_request("urgent"))
    assert notifier.send(escalation_id, "urgent")  # the background send raced; this one waits
    assert received[-1] == {
        "event": "urgent_escalation",
        "id": escalation_id,
        "reason": "urgent",
        "console_url": f"https://clinic.example/staff/escalations/{escalation_id}",
    }
    assert "secret" not in json.dumps(received)


def test_normal_escalation_is_not_announced(database_url, tmp_path, receiver, monkeypatch):
    url, received = receiver
    sent = []
    monkeypatch.setattr(UrgentNotifier, "send_in_background", lambda self, *a: sent.append(a))
    EscalationWriter(database_url, tmp_path, UrgentNotifier(url)).write(_request("normal"))
    assert sent == [] and received == []


def test_unreachable_receiver_is_retried_and_reported_not_raised(monkeypatch, caplog):
    monkeypatch.setattr(notify_module.time, "sleep", lambda _s: None)
    notifier = UrgentNotifier(f"http://127.0.0.1:{free_port()}/hook", attempts=2, timeout_s=1)
    assert notifier.send(7, "urgent") is False
    assert sum("attempt" in r.message for r in caplog.records) == 2
    assert any("not delivered" in r.message for r in caplog.records)
