"""The web app's patient API with Flask's test client and a fake Rasa client at the edge."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.content.answers import load_answer_specs
from bot.content.messages import WebTexts
from bot.web import create_app
from bot.web.patient import conversation_turns
from tests.helpers import CONTENT_DIR


def _chat(client, message="does it hurt", client_id="msg-00000001"):
    return client.post("/api/chat", json={"message": message, "client_id": client_id})


def test_page_sets_an_httponly_session_cookie_and_a_strict_csp(client):
    response = client.get("/")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_chat_relays_to_rasa_under_the_cookie_conversation_id(client, rasa):
    first = _chat(client)
    assert first.status_code == 200
    assert first.json["messages"][0]["metadata"]["kind"] == "answer"
    assert first.json["messages"][0]["buttons"][0]["payload"] == "/ask_injection_pain"
    _chat(client, "and how long", "msg-00000002")
    senders = {sender for sender, _ in rasa.sent}
    assert len(senders) == 1 and next(iter(senders)).startswith("web-")
    assert "recipient_id" not in first.json["messages"][0]  # the id stays in the cookie


def test_two_browsers_are_two_conversations(app, rasa):
    _chat(app.test_client())
    _chat(app.test_client())
    assert len({sender for sender, _ in rasa.sent}) == 2


def test_a_resent_message_is_processed_once(client, rasa):
    first = _chat(client, client_id="retry-00000001")
    again = _chat(client, client_id="retry-00000001")
    assert again.status_code == 200 and again.json["repeated"] is True
    assert again.json["messages"] == first.json["messages"]
    assert len(rasa.sent) == 1


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (None, "JSON object"),
        ({"client_id": "msg-00000001"}, "message"),
        ({"message": "   ", "client_id": "msg-00000001"}, "message"),
        ({"message": "x" * 2001, "client_id": "msg-00000001"}, "longer"),
        ({"message": "hi"}, "client_id"),
        ({"message": "hi", "client_id": "short"}, "client_id"),
        ({"message": 5, "client_id": "msg-00000001"}, "message"),
    ],
)
def test_bad_input_is_a_clear_error(client, rasa, body, complaint):
    response = (
        client.post("/api/chat", json=body)
        if body is not None
        else client.post("/api/chat", data="not json", content_type="application/json")
    )
    assert response.status_code == 400
    assert complaint in response.json["error"]
    assert rasa.sent == []


def test_rasa_down_gets_a_safe_reply_with_the_phone_and_emergency_number(client, rasa, app):
    rasa.down = True
    response = _chat(client)
    assert response.status_code == 503
    assert response.json["delivered"] is False
    [message] = response.json["messages"]
    clinic = app.extensions["clinic_messages"].clinic
    assert message["metadata"]["kind"] == "error"
    assert clinic["phone"] in message["text"] and clinic["emergency_number"] in message["text"]
    # nothing was remembered: a retry once Rasa is back is processed
    rasa.down = False
    assert _chat(client).json.get("repeated") is None
    assert len(rasa.sent) == 1


def test_history_is_empty_for_a_new_visitor(client):
    assert client.get("/api/history").json == {"messages": []}


def test_history_returns_this_browsers_conversation_only(client, rasa):
    _chat(client)
    [(sender, _)] = rasa.sent
    rasa.events_by_sender[sender] = [
        {"event": "user", "text": "/greet"},
        {"event": "bot", "text": "Hello", "metadata": {"reply_metadata": {"kind": "smalltalk"}}},
        {"event": "user", "text": "does it hurt"},
    ]
    turns = client.get("/api/history").json["messages"]
    assert [t["text"] for t in turns] == ["Hello", "does it hurt"]


def test_conversation_turns_show_pressed_buttons_by_title_and_keep_metadata():
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/greet"},
        {
            "event": "bot",
            "text": "Hello",
            "data": {"buttons": [{"title": "Does it hurt?", "payload": "/ask_injection_pain"}]},
            "metadata": {"reply_metadata": {"kind": "smalltalk"}},
        },
        {"event": "user", "text": "/ask_injection_pain"},
        {
            "event": "bot",
            "text": "Fine needle.",
            "metadata": {"reply_metadata": {"kind": "answer"}},
        },
        {"event": "user", "text": "<b>hi</b>"},
    ]
    turns = conversation_turns(events, {"ask_injection_pain": "Does it hurt?"})
    assert turns == [
        {
            "who": "bot",
            "text": "Hello",
            "metadata": {"kind": "smalltalk"},
            "buttons": [{"title": "Does it hurt?", "payload": "/ask_injection_pain"}],
        },
        {"who": "patient", "text": "Does it hurt?"},
        {"who": "bot", "text": "Fine needle.", "metadata": {"kind": "answer"}},
        {"who": "patient", "text": "<b>hi</b>"},  # data, not markup: the widget renders text
    ]


def test_oversized_request_body_is_refused(client):
    response = client.post("/api/chat", data="x" * (70 * 1024), content_type="application/json")
    assert response.status_code == 413


def test_chat_from_another_origin_is_refused(client, rasa):
    response = client.post(
        "/api/chat",
        json={"message": "hi", "client_id": "msg-00000001"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert rasa.sent == []
    same = client.post(
        "/api/chat",
        json={"message": "hi", "client_id": "msg-00000002"},
        headers={"Origin": "http://localhost"},
    )
    assert same.status_code == 200


def test_configured_origin_is_allowed(settings, rasa):
    app = create_app(
        {
            "TESTING": True,
            "SETTINGS": settings,
            "RASA_CLIENT": rasa,
            "ALLOWED_ORIGINS": ["https://clinic.example"],
        }
    )
    response = app.test_client().post(
        "/api/chat",
        json={"message": "hi", "client_id": "msg-00000003"},
        headers={"Origin": "https://clinic.example"},
    )
    assert response.status_code == 200


# --- the page: every sentence from data/content/ ----------------------------------------------

STATIC = PROJECT_ROOT / "bot" / "web" / "static"
TEMPLATE = PROJECT_ROOT / "bot" / "web" / "templates" / "index.html"
WIDGET_SCRIPTS = sorted(STATIC.glob("widget*.js"))


class _Page(HTMLParser):
    """The page's paragraphs with their source attributes, and its script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[dict] = []
        self.scripts: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "p" and "data-source-kind" in attributes:
            self._open = {**attributes, "text": ""}
        elif tag == "script":
            self._open = {**attributes, "text": "", "script": True}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag in ("p", "script"):
            (self.scripts if self._open.pop("script", False) else self.paragraphs).append(
                self._open
            )
            self._open = None


def _page(client) -> _Page:
    parser = _Page()
    parser.feed(client.get("/").get_data(as_text=True))
    return parser


def _widget_yml() -> dict:
    return yaml.safe_load((CONTENT_DIR / "widget.yml").read_text(encoding="utf-8"))


def test_the_page_shows_the_vetted_answers_with_their_source(client):
    approved = {
        s.answer_id: s
        for s in load_answer_specs(CONTENT_DIR / "answers.yml")
        if s.status == "approved"
    }
    shown = [p for p in _page(client).paragraphs if p["data-source-kind"] == "answer"]
    assert len(shown) >= 8
    for paragraph in shown:
        spec = approved[paragraph["data-answer-id"]]
        assert " ".join(paragraph["text"].split()) == spec.text
        assert paragraph["data-answer-version"] == str(spec.version)
        assert paragraph["data-guide-section"] == spec.section


def test_every_medical_paragraph_is_an_answer_or_a_quoted_passage(client):
    """Nothing on the page states a medical fact outside the checked content."""
    texts = WebTexts.load(CONTENT_DIR)
    allowed = {(p.kind, p.text) for p in texts.paragraphs()}
    page = _page(client)
    shown = {(p["data-source-kind"], " ".join(p["text"].split())) for p in page.paragraphs}
    assert shown == allowed
    assert all(p["data-guide-section"] for p in page.paragraphs)


class _Texts(HTMLParser):
    """Every piece of text a patient can read or hear: text nodes and labelling attributes."""

    LABELS = ("aria-label", "placeholder", "alt", "title")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        attributes = dict(attrs)
        self.texts += [attributes[a] for a in self.LABELS if attributes.get(a)]
        if tag == "meta" and attributes.get("name") == "description":
            self.texts.append(attributes["content"])

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip and " ".join(data.split()):
            self.texts.append(" ".join(data.split()))


def test_every_sentence_on_the_page_comes_from_the_content(client, app):
    """No text is written in the template: each piece is part of a content text, a heading or
    paragraph from widget.yml / answers.yml, or a clinic fact from clinic.yml."""
    texts = app.extensions["web_texts"]
    clinic = app.extensions["clinic_messages"].clinic
    links = {
        "phone_link": clinic["phone"],
        "email_link": clinic["email"],
        "emergency_link": clinic["emergency_number"],
        "chat_button": texts.widget["launcher"],
    }
    allowed = [*clinic.values(), *(p.text for p in texts.paragraphs())]
    allowed += [s.heading for s in texts.sections]
    allowed += [b.text for s in texts.sections for b in s.blocks]
    for text in [*texts.page.values(), *texts.widget.values()]:
        try:
            allowed.append(text.format(**clinic, **links))
        except KeyError:
            allowed.append(text)  # filled in by widget.js, not by the page
    corpus = "\n".join(allowed)
    parser = _Texts()
    parser.feed(client.get("/").get_data(as_text=True))
    assert len(parser.texts) > 40
    stray = [t for t in parser.texts if re.search("[A-Za-z]", t) and t.strip(" .·") not in corpus]
    assert stray == [], f"page texts not from data/content/: {stray}"


def test_the_page_serves_the_widget_texts_as_a_data_block_not_as_code(client):
    scripts = _page(client).scripts
    data = [s for s in scripts if "src" not in s]
    assert [s.get("type") for s in data] == ["application/json"]  # data: never run, CSP holds
    assert json.loads(data[0]["text"]) == {
        k: " ".join(v.split()) for k, v in _widget_yml()["widget"].items()
    }
    assert [s["src"] for s in scripts if "src" in s] == [
        "/static/widget-text.js",
        "/static/widget-view.js",
        "/static/widget.js",
    ]  # helpers and texts first: deferred scripts run in this order


def _code(path: Path) -> str:
    """A widget script without comments, "use strict" and console messages (for developers)."""
    source = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r'"use strict"|console\.warn\([^)]*\)', "", source)


def _widget_keys() -> set[str]:
    """The keys widget*.js looks texts up by: t("key", ...) and tNodes("key", ...) only."""
    keys = set()
    for path in WIDGET_SCRIPTS:
        source = _code(path)
        keys |= set(re.findall(r'(?<![\w$])(?:t|tNodes)\("([a-z_]+)"', source))
        # A key from a variable could name a text that does not exist: only literals.
        dynamic = re.findall(r'(?<![\w$])(?<!function )(?:t|tNodes)\((?!")[^)]*\)', source)
        assert dynamic == [], f"{path.name} looks texts up without a literal key: {dynamic}"
    return keys


def test_every_text_the_widget_reads_is_in_the_content():
    assert {p.name for p in WIDGET_SCRIPTS} == {"widget.js", "widget-text.js", "widget-view.js"}
    keys = _widget_keys()
    assert {"urgent_call", "offline", "unreachable", "status_pending", "emergency_call"} <= keys
    missing = keys - set(_widget_yml()["widget"])
    assert not missing, f"widget.js reads texts missing from widget.yml: {sorted(missing)}"


def test_every_text_the_page_template_reads_is_in_the_content():
    template = TEMPLATE.read_text(encoding="utf-8")
    content = _widget_yml()
    for helper, strings in (
        ("page_text", content["page"]["strings"]),
        ("widget_text", content["widget"]),
    ):
        keys = set(re.findall(helper + r'\("([a-z_]+)"', template))
        assert keys, helper
        assert keys <= set(strings), sorted(keys - set(strings))


def test_no_sentence_is_hard_coded_in_the_widget_scripts():
    """Patient-facing text lives in widget.yml: string literals in the scripts are keys, CSS
    classes, attribute names and the like, never words with spaces."""
    for path in WIDGET_SCRIPTS:
        literals = re.findall(r'"([^"\\\n]*)"', _code(path))
        sentences = [
            s
            for s in literals
            if re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", s)
            and not all(word.startswith("cw-") for word in s.split())  # CSS classes
        ]
        assert sentences == [], f"{path.name}: {sentences}"


def test_a_page_text_missing_from_the_content_shows_its_key_not_an_error(app):
    texts = app.extensions["web_texts"]
    app.extensions["web_texts"] = dataclasses.replace(
        texts, page={k: v for k, v in texts.page.items() if k != "notice"}
    )
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert "Please note:</strong> notice" in response.get_data(as_text=True)


def test_the_app_refuses_a_page_quote_that_is_not_in_the_guide(tmp_path, settings, rasa):
    shutil.copytree(CONTENT_DIR, tmp_path / "content")
    path = tmp_path / "content" / "widget.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "- We will listen to your story", "- We will always listen to your story"
        ),
        encoding="utf-8",
    )
    bad = dataclasses.replace(settings, content_dir=tmp_path / "content")
    with pytest.raises(ValueError, match="quote not verbatim in guide"):
        create_app({"TESTING": True, "SETTINGS": bad, "RASA_CLIENT": rasa})
