"""Real action and Rasa servers on loopback: a patient's conversation over REST and socket.io,
escalations in the database, and the HTTP API closed without the token."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import MAX_MESSAGE_LENGTH
from bot.db.models import Escalation
from bot.db.session import session_scope
from bot.ops.servers import http_json

pytestmark = pytest.mark.slow


def say(servers, text, sender: str | None = None) -> list[dict]:
    status, replies = http_json(
        "POST",
        f"{servers.rasa_url}/webhooks/rest/webhook",
        {"sender": sender or uuid.uuid4().hex, "message": text},
        timeout=30,
    )
    assert status == 200
    return replies


def escalations_for(servers, sender: str) -> list[Escalation]:
    with session_scope(servers.settings.database_url) as session:
        return session.scalars(select(Escalation).where(Escalation.conversation_id == sender)).all()


def wait_for_escalations(servers, sender: str, count: int = 1) -> list[Escalation]:
    """Urgent escalations are written in the background, after the emergency reply."""
    import time

    deadline = time.monotonic() + 20
    while True:
        rows = escalations_for(servers, sender)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_faq_answer_arrives_with_its_source(servers):
    [reply] = say(servers, "how long does the injection session take")
    assert reply["metadata"]["kind"] == "answer"
    assert reply["metadata"]["answer_id"] == "session-length"
    assert "15 minutes" in reply["text"]
    assert reply["metadata"]["source"]["quotes"]


def test_urgent_report_gets_emergency_instruction_and_urgent_escalation(servers):
    sender = uuid.uuid4().hex
    [reply] = say(servers, "since my shots yesterday i can't swallow properly", sender)
    assert reply["metadata"]["kind"] == "urgent"
    assert reply["metadata"]["recorded"] is True
    [row] = wait_for_escalations(servers, sender)
    assert (row.priority, row.reason, row.status) == ("urgent", "urgent", "open")
    assert row.matched_rule == "distant_spread"
    assert row.transcript[-1]["text"] == "since my shots yesterday i can't swallow properly"


def test_clinical_question_is_handed_to_staff(servers):
    sender = uuid.uuid4().hex
    reply, choice = say(servers, "i take topiramate every day, is botox safe with that", sender)
    assert choice["metadata"]["kind"] == "contact"  # how to hear back (test_handoff_loop.py)
    assert reply["metadata"]["kind"] == "handoff"
    assert reply["metadata"]["reason"] == "clinical"
    [row] = escalations_for(servers, sender)
    assert (row.priority, row.reason) == ("normal", "clinical")


def test_a_whole_conversation_is_in_the_escalation_transcript(servers):
    sender = uuid.uuid4().hex
    say(servers, "hello", sender)
    say(servers, "does it hurt", sender)
    say(servers, "can i speak to someone from the clinic please", sender)
    [row] = escalations_for(servers, sender)
    assert row.reason == "requested"
    patient_turns = [t["text"] for t in row.transcript if t["who"] == "patient"]
    assert patient_turns == [
        "hello",
        "does it hurt",
        "can i speak to someone from the clinic please",
    ]
    bot_kinds = [t["kind"] for t in row.transcript if t["who"] == "bot"]
    assert bot_kinds == ["smalltalk", "answer"]


def test_tracker_store_keeps_the_conversation_in_the_database(servers):
    sender = uuid.uuid4().hex
    say(servers, "what are the side effects", sender)
    status, tracker = http_json(
        "GET", f"{servers.rasa_url}/conversations/{sender}/tracker?token={servers.token}"
    )
    assert status == 200
    texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert texts == ["what are the side effects"]
    from sqlalchemy import text as sql

    with session_scope(servers.settings.database_url) as session:
        stored = session.execute(
            sql("select count(*) from events where sender_id = :s"), {"s": sender}
        ).scalar()
    assert stored > 0


@pytest.mark.parametrize(
    "text", ["", "   ", "a" * MAX_MESSAGE_LENGTH, "<img src=x onerror=alert(1)>", "😀😀"]
)
def test_odd_input_gets_a_safe_reply(servers, text):
    replies = say(servers, text)
    assert replies, "every message gets a reply"
    assert replies[0]["metadata"]["kind"] in {"fallback", "smalltalk", "handoff", "answer"}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"nope": 1}, "sender"),
        ({"sender": "x"}, "message"),
        ({"sender": "x", "message": 42}, "message"),
        ({"sender": "x" * 300, "message": "hi"}, "sender"),
        ({"sender": "x", "message": "a" * (MAX_MESSAGE_LENGTH + 1)}, "longer"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_malformed_request_is_a_clear_error_not_a_crash(servers, body, complaint):
    status, answer = http_json("POST", f"{servers.rasa_url}/webhooks/rest/webhook", body)
    assert status == 400
    assert complaint in str(answer)
    # and the server still answers afterwards
    assert say(servers, "hello")[0]["metadata"]["kind"] == "smalltalk"


def test_http_api_refuses_requests_without_the_token(servers):
    for method, path, body in [
        ("POST", "/model/parse", {"text": "hello"}),
        ("GET", "/status", None),
        ("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}),
        ("GET", "/conversations/x/tracker", None),
    ]:
        status, _ = http_json(method, f"{servers.rasa_url}{path}", body)
        assert status == 401, path
    status, parsed = http_json(
        "POST", f"{servers.rasa_url}/model/parse?token={servers.token}", {"text": "hello"}
    )
    assert status == 200 and parsed["intent"]["name"] == "greet"


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def test_servers_listen_on_loopback_only(servers):
    for port in (servers.rasa_port, servers.action_port):
        addresses = _listening_addresses(port)
        assert addresses, port
        # 0100007F is 127.0.0.1 in /proc's little-endian hex
        assert addresses <= {"0100007F"}, (port, addresses)


def test_socketio_channel_delivers_one_message_with_metadata(servers):
    import threading
    import time

    import socketio

    # The synchronous client over long-polling: python-socketio's asyncio client needs a newer
    # aiohttp than Rasa 3.6 pins.
    client = socketio.Client()
    received: list[dict] = []
    confirmed, got_reply = threading.Event(), threading.Event()
    session_id = uuid.uuid4().hex
    client.on("session_confirm", lambda _data: confirmed.set())

    def on_bot(data):
        received.append(data)
        got_reply.set()

    client.on("bot_uttered", on_bot)
    client.connect(servers.rasa_url, socketio_path="/socket.io", transports=["polling"])
    try:
        client.emit("session_request", {"session_id": session_id})
        assert confirmed.wait(10)
        client.emit(
            "user_uttered",
            {"message": "when will i start to feel better", "session_id": session_id},
        )
        assert got_reply.wait(30)
        time.sleep(1.0)  # a second, split-off message would arrive in this time
    finally:
        client.disconnect()

    [message] = received
    assert message["metadata"]["kind"] == "answer"
    assert message["metadata"]["answer_id"] == "when-results"
    assert message["text"] == _approved_text("ask_when_results")


def _approved_text(intent: str) -> str:
    from bot.config import PROJECT_ROOT
    from bot.content.answers import APPROVED, load_answer_specs

    specs = load_answer_specs(PROJECT_ROOT / "data" / "content" / "answers.yml")
    return next(s.text for s in specs if s.intent == intent and s.status == APPROVED)


def test_terminal_chat_shows_answer_and_source(servers):
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [str(Path(sys.executable).parent / "bot"), "chat", "--url", servers.rasa_url],
        input="how often do i need the injections\n\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    first_sentence = _approved_text("ask_treatment_schedule").split(". ")[0]
    assert f"bot [answer]> {first_sentence}" in result.stdout
    assert "From our patient guide:" in result.stdout


def test_no_patient_text_in_the_server_logs(servers):
    """Runs last in this file: by now the servers have seen every message above."""
    secret = f"my name is Zed{uuid.uuid4().hex[:6]} and i take topiramate"
    say(servers, secret)
    logs = "".join(p.read_text(errors="replace") for p in servers.log_dir.glob("*.log"))
    assert "can't swallow properly" not in logs
    assert secret not in logs
    assert "topiramate" not in logs


def test_a_resent_message_opens_one_escalation(servers):
    sender = uuid.uuid4().hex
    body = {
        "sender": sender,
        "message": "my lips are swelling up since the injections",
        "metadata": {"client_id": "c-abcdef12"},
    }
    for _ in range(2):
        status, replies = http_json("POST", f"{servers.rasa_url}/webhooks/rest/webhook", body)
        assert status == 200 and replies[0]["metadata"]["kind"] == "urgent"
    assert len(escalations_for(servers, sender)) == 1


def test_a_lone_surrogate_in_an_urgent_report_still_opens_the_urgent_escalation(servers):
    """The widget's maxlength can cut an emoji in half; the report must still get through."""
    from tests.helpers import Patient

    patient = Patient(servers.web_url)
    raw = (
        b'{"message": "I can\'t breathe \\ud83d since my botox", "client_id": "'
        + uuid.uuid4().hex.encode()
        + b'"}'
    )
    status, body = patient.post(raw)
    assert status == 200, body
    [reply] = body["messages"]
    assert reply["metadata"]["kind"] == "urgent"
    rows = [r for r in escalations_for_text(servers, "since my botox")]
    assert rows and rows[0].priority == "urgent"


def escalations_for_text(servers, fragment: str) -> list[Escalation]:
    import time

    deadline = time.monotonic() + 20
    while True:
        with session_scope(servers.settings.database_url) as session:
            rows = [
                r
                for r in session.scalars(select(Escalation)).all()
                if any(fragment in (t.get("text") or "") for t in r.transcript or [])
            ]
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_a_lone_surrogate_over_rest_is_cleaned_and_the_report_is_urgent(servers):
    sender = uuid.uuid4().hex
    status, replies = http_json(
        "POST",
        f"{servers.rasa_url}/webhooks/rest/webhook",
        {"sender": sender, "message": "my lips are swelling up since the shots \ud83d"},
        timeout=30,
    )
    assert status == 200
    assert replies[0]["metadata"]["kind"] == "urgent"
    [row] = wait_for_escalations(servers, sender)
    assert row.priority == "urgent" and "\ud83d" not in row.transcript[-1]["text"]


@pytest.mark.parametrize("sender", ["clinic/web/1", "../../etc/passwd", "a\\b"])
def test_a_sender_id_with_slashes_never_loses_the_urgent_escalation(servers, sender):
    sender = f"{sender}-{uuid.uuid4().hex[:6]}"
    [reply] = say(servers, "my husband collapsed and i can't wake him", sender)
    assert reply["metadata"]["kind"] == "urgent" and reply["metadata"]["recorded"] is True
    [row] = wait_for_escalations(servers, sender)
    assert row.priority == "urgent"


def test_suicidal_thoughts_get_the_crisis_line(servers, messages):
    sender = uuid.uuid4().hex
    [reply] = say(
        servers, "everyone would be better off without me, i've saved up my pills", sender
    )
    meta = reply["metadata"]
    assert meta["kind"] == "urgent" and meta["urgent_reply"] == "crisis"
    assert reply["text"] == messages.text("crisis")
    assert meta["crisis_line"] in reply["text"] and meta["emergency_number"] in reply["text"]
    assert wait_for_escalations(servers, sender)[0].priority == "urgent"


def test_a_spanish_emergency_gets_the_spanish_reply_and_an_urgent_escalation(servers, messages):
    sender = uuid.uuid4().hex
    [reply] = say(
        servers, "mi esposo no puede hablar bien y tiene la cara caída de un lado", sender
    )
    assert reply["metadata"]["kind"] == "urgent"
    assert reply["text"].startswith(messages.translated("urgent", "es"))
    assert wait_for_escalations(servers, sender)[0].priority == "urgent"


def test_a_question_in_german_gets_the_notice_in_german_and_goes_to_staff(servers, messages):
    sender = uuid.uuid4().hex
    reply, choice = say(servers, "Wie lange dauert die Behandlung ungefähr?", sender)
    assert choice["metadata"]["kind"] == "contact"
    assert reply["metadata"]["kind"] == "handoff" and reply["metadata"]["reason"] == "language"
    assert reply["text"].startswith(messages.translated("language_notice", "de"))
    [row] = escalations_for(servers, sender)
    assert (row.priority, row.reason) == ("normal", "language")
