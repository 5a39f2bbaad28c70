"""Hostile and malformed messages (tests/hostile/messages.yml) against the real servers: the
public chat API and Rasa's REST channel. Each gets a vetted reply or a clear 4xx."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content.answers import load_answer_specs
from bot.content.messages import Messages
from bot.ops.servers import http_json
from bot.reply import ANSWER, KINDS
from tests.helpers import CONTENT_DIR, Patient

pytestmark = pytest.mark.slow

CORPUS = PROJECT_ROOT / "tests" / "hostile" / "messages.yml"
MARKUP = re.compile(r"<\s*[a-z/!]|javascript:|onerror|onload", re.IGNORECASE)


def load_corpus(path: Path = CORPUS) -> list[dict]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    for entry in entries:
        if "repeat" in entry:
            entry["text"] = entry["repeat"]["text"] * entry["repeat"]["times"]
    return entries


CASES = load_corpus()


def _normal(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def vetted_texts() -> set[str]:
    """Every text the assistant may send: the vetted answers and the fixed messages."""
    messages = Messages.load(CONTENT_DIR)
    texts = {_normal(text) for text in messages.all_texts()}
    texts |= {_normal(spec.text) for spec in load_answer_specs(CONTENT_DIR / "answers.yml")}
    return texts


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 40
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids))
    texts = [case["text"] for case in CASES]
    assert any(len(t) >= 100_000 for t in texts)
    assert any("\x00" in t for t in texts)
    assert any("\u202e" in t for t in texts)
    assert sum(bool(case.get("no_answer")) for case in CASES) >= 8


def check_replies(case: dict, replies: list[dict], vetted: set[str]) -> None:
    assert isinstance(replies, list) and replies, "a reply, never silence"
    for reply in replies:
        kind = reply["metadata"]["kind"]
        assert kind in KINDS
        assert _normal(reply["text"]) in vetted, f"composed text: {reply['text'][:80]!r}"
        assert not MARKUP.search(reply["text"]), "markup echoed back"
        for button in reply.get("buttons", []):
            assert not MARKUP.search(button["title"])
    if case.get("no_answer"):
        assert replies[0]["metadata"]["kind"] != ANSWER, "no FAQ answer to a personal request"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_public_chat_api(servers, vetted_texts, case):
    patient = Patient(servers.web_url)  # a new conversation each: the rate limit is per sender
    status, body = patient.post({"message": case["text"], "client_id": uuid.uuid4().hex})
    assert status < 500, body
    if status >= 400:
        assert status in (400, 413), status
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]
        return
    assert status == 200
    check_replies(case, body["messages"], vetted_texts)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rasa_rest_channel(servers, vetted_texts, case):
    status, body = http_json(
        "POST",
        f"{servers.rasa_url}/webhooks/rest/webhook",
        {"sender": f"hostile-{uuid.uuid4().hex[:8]}", "message": case["text"]},
        timeout=60,
    )
    assert status < 500, body
    if status >= 400:
        assert status == 400 and "longer than" in str(body)
        return
    check_replies(case, body, vetted_texts)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"{",
        b'{"message": "\\ud800"}',  # a lone surrogate
        b"\xff\xfe\x00\x00",
        b'{"message": null, "client_id": "abcdefgh"}',
        b'{"message": ["a"], "client_id": "abcdefgh"}',
        b'{"message": "hi", "client_id": 12345678}',
        b'{"message": "hi"}',
        b"[1, 2, 3]",
        b'"just a string"',
        b'{"message": "hi", "client_id": "' + b"x" * 100 + b'"}',
    ],
)
def test_malformed_requests_to_the_public_api_are_clear_400s(servers, raw):
    status, body = Patient(servers.web_url).post(raw)
    assert status == 400, (status, body)
    assert isinstance(body, dict) and body.get("error")
