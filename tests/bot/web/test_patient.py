"""The web app's patient API with Flask's test client and a fake Rasa client at the edge."""

from __future__ import annotations

import pytest

from bot.web import create_app
from bot.web.patient import conversation_turns


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
