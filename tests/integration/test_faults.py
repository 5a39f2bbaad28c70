"""Faults on real servers: the action server down, the database down during an urgent report,
a Rasa restart mid-conversation. The patient always gets a safe reply; escalations are kept."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db.models import PRIORITY_NORMAL, PRIORITY_URGENT, Escalation
from bot.db.session import session_scope
from bot.ops.bootstrap import prepare_database
from bot.ops.postgres import LocalPostgres
from bot.ops.servers import ServerSet, http_json
from tests.helpers import Patient, always_open_content, start_postgres, start_servers

pytestmark = pytest.mark.slow

URGENT_TEXT = "I have the worst headache of my life and I can't move my arm"
CLINICAL_TEXT = "can I take my blood pressure tablets on the day of the injections"


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory):
    server = start_postgres(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def faulty(trained_model: Path, postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory):
    """Servers of our own (not the shared ones): these tests stop and start them."""
    var_dir = tmp_path_factory.mktemp("faults-var")
    settings = Settings(
        var_dir=var_dir,
        database_url=postgres.url,
        content_dir=always_open_content(var_dir / "content"),
    )
    prepare_database(settings)
    servers = start_servers(settings, trained_model)
    yield servers
    servers.stop()


def say(servers: ServerSet, sender: str, text: str, client_id: str | None = None) -> list[dict]:
    body: dict = {"sender": sender, "message": text}
    if client_id:
        body["metadata"] = {"client_id": client_id}
    status, replies = http_json("POST", f"{servers.rasa_url}/webhooks/rest/webhook", body, 60)
    assert status == 200, replies
    assert isinstance(replies, list) and replies, "never silence"
    return replies


def escalations(servers: ServerSet, sender: str) -> list[tuple[str, str]]:
    with session_scope(servers.settings.database_url) as session:
        rows = session.scalars(
            select(Escalation).where(Escalation.conversation_id == sender).order_by(Escalation.id)
        ).all()
        return [(row.priority, row.reason) for row in rows]


def user_texts(servers: ServerSet, sender: str) -> list[str]:
    status, tracker = http_json(
        "GET", f"{servers.rasa_url}/conversations/{sender}/tracker?token={servers.token}"
    )
    assert status == 200
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_action_server_down_gives_a_safe_reply_and_keeps_the_escalations(faulty, messages):
    sender = f"actions-down-{uuid.uuid4().hex[:8]}"
    phone = messages.clinic["phone"]
    assert say(faulty, sender, "hello")[0]["metadata"]["kind"] == "smalltalk"
    faulty.stop_server("actions")
    try:
        urgent = say(faulty, sender, URGENT_TEXT, client_id="urgent-0001")[0]
        assert urgent["metadata"]["kind"] == "urgent"
        assert urgent["text"] == messages.text("urgent")
        assert messages.clinic["emergency_number"] in urgent["text"]
        assert urgent["metadata"]["recorded"] is True

        clinical = say(faulty, sender, CLINICAL_TEXT, client_id="clinical-0001")[0]
        faq = say(faulty, sender, "does it hurt", client_id="faq-00000001")[0]
        for reply in (clinical, faq):
            assert reply["metadata"]["kind"] == "error"
            assert phone in reply["text"], "the clinic's phone number"
    finally:
        faulty.start_server("actions")

    # Back: the conversation goes on, and a resend of the clinical message (same client id,
    # as the widget does after an error) reuses its escalation instead of opening another.
    assert say(faulty, sender, "does it hurt")[0]["metadata"]["kind"] == "answer"
    again = say(faulty, sender, CLINICAL_TEXT, client_id="clinical-0001")[0]
    assert again["metadata"]["kind"] == "handoff"
    assert escalations(faulty, sender) == [
        (PRIORITY_URGENT, "urgent"),
        (PRIORITY_NORMAL, "clinical"),
    ]


def test_rasa_restart_mid_conversation_continues_from_the_stored_tracker(faulty, messages):
    patient = Patient(faulty.web_url)
    first = ["hello", "how long does the appointment take"]
    for text in first:
        assert patient.say(text)[0]["metadata"]["kind"] != "error"
    faulty.stop_server("rasa")
    try:
        # Meanwhile the web app says so honestly, with the clinic's number; nothing is lost.
        status, body = patient.post({"message": "are you there", "client_id": uuid.uuid4().hex})
        assert status == 503
        assert body["delivered"] is False
        assert messages.clinic["phone"] in body["messages"][0]["text"]
    finally:
        faulty.start_server("rasa")
    assert patient.say("does it hurt")[0]["metadata"]["kind"] == "answer"

    status, history = http_json("GET", f"{faulty.web_url}/api/history")  # no cookie: empty
    assert status == 200 and history["messages"] == []
    request_history = patient.opener.open(f"{faulty.web_url}/api/history", timeout=30)
    import json

    turns = json.loads(request_history.read())["messages"]
    said = [t["text"] for t in turns if t["who"] == "patient"]
    assert said == [*first, "does it hurt"], "one conversation across the restart"


def test_database_down_during_an_urgent_report(faulty, postgres, messages):
    sender = f"db-down-{uuid.uuid4().hex[:8]}"
    assert say(faulty, sender, "hello")[0]["metadata"]["kind"] == "smalltalk"
    spool = faulty.settings.spool_dir
    postgres.stop()
    try:
        reply = say(faulty, sender, URGENT_TEXT, client_id="urgent-db-0001")[0]
        # The emergency instruction goes out at once, the escalation already safe on disk ...
        assert reply["metadata"]["kind"] == "urgent"
        assert reply["text"] == messages.text("urgent")
        assert reply["metadata"]["recorded"] is True
        # ... and the escalation waits on disk, not in memory.
        assert list(spool.glob("escalation-*.json"))
    finally:
        postgres.start()
    deadline = time.monotonic() + 60
    while not escalations(faulty, sender) and time.monotonic() < deadline:
        time.sleep(1)
    assert escalations(faulty, sender) == [(PRIORITY_URGENT, "urgent")], "retried until written"
    assert not list(spool.glob("escalation-*.json"))
    # The database is back for the conversation too.
    kinds = [say(faulty, sender, "does it hurt")[0]["metadata"]["kind"] for _ in range(2)]
    assert kinds[-1] == "answer"
