"""The multi-server script, run as a deployer would: two Rasa servers behind nginx, PostgreSQL,
Redis. One conversation across both servers keeps one history; stopping one server mid-way
loses no message and no escalation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db.models import PRIORITY_URGENT, Escalation
from bot.db.session import session_scope
from bot.ops.servers import http_json
from tests.helpers import Patient, free_port

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 420  # a fresh machine installs nginx, Redis and PostgreSQL first


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, trained_model: Path):
    """``scripts/cluster.sh`` in the foreground of a subprocess; stopped with SIGTERM."""
    base = tmp_path_factory.mktemp("cluster")
    ports = {
        "public": free_port(),
        "internal": free_port(),
        "web": free_port(),
        "action": free_port(),
        "redis": free_port(),
        "postgres": free_port(),
    }
    rasa_ports = (free_port(), free_port())
    args = ["bash", str(PROJECT_ROOT / "scripts" / "cluster.sh"), "--base-dir", str(base)]
    args += [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))]
    args += ["--rasa-ports", ",".join(map(str, rasa_ports))]
    output = open(base / "cluster.out", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        args, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd=PROJECT_ROOT
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while "ready." not in (base / "cluster.out").read_text():
            assert process.poll() is None, (base / "cluster.out").read_text()[-3000:]
            assert time.monotonic() < deadline, "cluster did not start"
            time.sleep(1)
        state = json.loads((base / "cluster.json").read_text())
        state["token"] = (base / "var" / "rasa-auth-token").read_text().strip()
        state["rasa_urls"] = [f"http://127.0.0.1:{port}" for port in rasa_ports]
        state["base"] = base
        yield state
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        output.close()


def rest(url: str, sender: str, text: str) -> list[dict]:
    status, replies = http_json(
        "POST", f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}, 30
    )
    assert status == 200, replies
    return replies


def tracker(cluster: dict, url: str, sender: str) -> dict:
    status, body = http_json(
        "GET", f"{url}/conversations/{sender}/tracker?token={cluster['token']}"
    )
    assert status == 200
    return body


def redis_commands(port: int) -> int:
    import redis

    return int(redis.Redis(host="127.0.0.1", port=port).info("stats")["total_commands_processed"])


def test_a_conversation_alternating_between_servers_keeps_one_history(cluster):
    sender = f"alternate-{uuid.uuid4().hex[:8]}"
    texts = [
        "hello",
        "how long does the appointment take",
        "does it hurt",
        "when will it start working",
        "what are the side effects",
        "thanks",
    ]
    commands_before = redis_commands(cluster["ports"]["redis"])
    for turn, text in enumerate(texts):
        url = cluster["rasa_urls"][turn % 2]
        replies = rest(url, sender, text)
        assert replies and replies[0]["metadata"]["kind"] != "error", (url, text, replies)
    # Rasa took and released a conversation lock in Redis for each message.
    assert redis_commands(cluster["ports"]["redis"]) - commands_before >= len(texts)

    seen = [tracker(cluster, url, sender)["events"] for url in cluster["rasa_urls"]]
    assert seen[0] == seen[1], "both servers read the same stored conversation"
    user_texts = [e["text"] for e in seen[0] if e["event"] == "user"]
    assert user_texts == texts
    kinds = [
        (e.get("metadata") or {}).get("reply_metadata", {}).get("kind")
        for e in seen[0]
        if e["event"] == "bot"
    ]
    assert kinds.count("answer") == 4


def test_socketio_through_nginx_sticks_to_one_server(cluster):
    """Long-polling socket.io is several HTTP requests per session: they must all reach the
    Rasa server that holds the session, or the session is lost."""
    import socketio

    client = socketio.Client()
    received: list[dict] = []
    confirmed, replies = threading.Event(), threading.Semaphore(0)
    session_id = uuid.uuid4().hex
    client.on("session_confirm", lambda _data: confirmed.set())

    def on_bot(data: dict) -> None:
        received.append(data)
        replies.release()

    client.on("bot_uttered", on_bot)
    client.connect(cluster["public_url"], socketio_path="/socket.io", transports=["polling"])
    try:
        client.emit("session_request", {"session_id": session_id})
        assert confirmed.wait(10)
        for text in ("does it hurt", "how long does the appointment take", "thanks"):
            client.emit("user_uttered", {"message": text, "session_id": session_id})
            assert replies.acquire(timeout=30), text
    finally:
        client.disconnect()
    kinds = [message["metadata"]["kind"] for message in received]
    assert kinds == ["answer", "answer", "smalltalk"]


def test_stopping_one_server_mid_conversation_loses_no_message_or_escalation(cluster):
    patient = Patient(cluster["public_url"])
    texts = [
        "hi",
        "what happens on the day of the injections",
        "how many injections are there",
        "does it hurt",
        "I suddenly have the worst headache of my life and my vision is double",
        "can I drive home afterwards",
        "how soon will I notice a difference",
        "thank you",
    ]
    replies: dict[int, list[dict]] = {}
    failures: list[BaseException] = []

    def converse() -> None:
        try:
            for index, text in enumerate(texts):
                replies[index] = patient.say(text)
                time.sleep(0.3)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    talker = threading.Thread(target=converse)
    talker.start()
    while len(replies) < 2 and talker.is_alive():
        time.sleep(0.05)
    # Mid-conversation: the first Rasa server goes away (SIGTERM, as an orchestrator does).
    os.killpg(cluster["pids"]["rasa-0"], signal.SIGTERM)
    talker.join(timeout=180)
    assert not failures, failures
    assert len(replies) == len(texts)
    kinds = [replies[i][0]["metadata"]["kind"] for i in range(len(texts))]
    assert "error" not in kinds, kinds
    assert kinds[4] == "urgent"

    # Every message is in the stored conversation, in order; the survivor serves it.
    with session_scope(cluster["database_url"]) as session:
        urgent = session.scalars(
            select(Escalation).where(Escalation.priority == PRIORITY_URGENT)
        ).all()
        conversations = {e.conversation_id for e in urgent if e.transcript and any(
            t.get("text") == texts[4] for t in e.transcript
        )}  # fmt: skip
    assert len(conversations) == 1, "exactly one urgent escalation for the message"
    sender = conversations.pop()
    with session_scope(cluster["database_url"]) as session:
        count = len(
            session.scalars(select(Escalation).where(Escalation.conversation_id == sender)).all()
        )
    assert count == 1
    events = tracker(cluster, cluster["rasa_urls"][1], sender)["events"]
    user_texts = [e["text"] for e in events if e["event"] == "user" and e["text"] in texts]
    assert [t for t in texts if t in user_texts] == texts, "no message lost"
    assert sorted(set(user_texts), key=user_texts.index) == texts, "in order"
    # No server of the cluster wrote the patient's words to its log.
    logs = Path(cluster["logs"])
    for log in logs.glob("*.log"):
        content = log.read_text(errors="replace")
        for text in texts[1:]:
            assert text not in content, (log.name, text)


def test_the_public_port_exposes_the_site_not_the_rasa_api(cluster):
    for path in ("/model/parse", "/status", "/conversations/x/tracker", "/model"):
        status, _ = http_json("GET", f"{cluster['public_url']}{path}")
        assert status == 404, path
    status, _ = http_json("GET", f"{cluster['public_url']}/healthz")
    assert status == 200
