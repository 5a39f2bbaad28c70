"""The public chat API's length cap, input cleaning and per-sender rate limit."""

from __future__ import annotations

import pytest

from bot.web import create_app
from bot.web.patient import MAX_MESSAGE_LENGTH, RateLimiter, parse_rate_limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_allows_the_limit_then_refuses_until_the_window_moves():
    clock = FakeClock()
    limiter = RateLimiter(3, 60, clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(60.0)
    assert limiter.acquire("b") == 0.0, "per sender"
    clock.now += 30
    assert limiter.acquire("a") == pytest.approx(30.0)
    clock.now += 30.5
    assert limiter.acquire("a") == 0.0


@pytest.mark.parametrize(
    ("value", "parsed"), [("12/60", (12, 60.0)), ("1/0.5", (1, 0.5)), ("100/3600", (100, 3600.0))]
)
def test_parse_rate_limit(value, parsed):
    assert parse_rate_limit(value) == parsed


@pytest.mark.parametrize("value", ["", "12", "a/b", "0/60", "5/0", "-1/60", "1/2/3"])
def test_parse_rate_limit_refuses_nonsense(value):
    with pytest.raises(ValueError, match="CLINIC_CHAT_RATE_LIMIT"):
        parse_rate_limit(value)


@pytest.fixture
def client(settings, rasa):
    app = create_app(
        {"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": rasa, "CHAT_RATE_LIMIT": "3/60"}
    )
    return app.test_client()


def chat(client, message: str, client_id: str):
    return client.post("/api/chat", json={"message": message, "client_id": client_id})


def test_a_sender_over_the_limit_gets_429_with_retry_after(client, rasa, settings):
    for n in range(3):
        assert chat(client, "does it hurt", f"client-id-{n}").status_code == 200
    refused = chat(client, "does it hurt", "client-id-3")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "wait" in refused.get_json()["error"]
    assert len(rasa.sent) == 3, "the refused message never reached Rasa"
    # A resend of a message already answered is not another message.
    again = chat(client, "does it hurt", "client-id-0")
    assert again.status_code == 200 and again.get_json()["repeated"] is True
    # Another patient is not affected.
    other = create_app({"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": rasa}).test_client()
    assert chat(other, "hello", "client-id-9").status_code == 200


def test_length_cap_is_a_clear_400(client, rasa):
    response = chat(client, "a" * (MAX_MESSAGE_LENGTH + 1), "client-id-1")
    assert response.status_code == 400
    assert str(MAX_MESSAGE_LENGTH) in response.get_json()["error"]
    assert chat(client, "a" * MAX_MESSAGE_LENGTH, "client-id-2").status_code == 200
    assert rasa.sent[-1][1] == "a" * MAX_MESSAGE_LENGTH


@pytest.mark.parametrize(
    ("typed", "relayed"),
    [
        ("nul\x00 byte", "nul byte"),
        ("\u202eevil", "evil"),
        ("/ask_injection_pain", "/ask_injection_pain"),  # a button of ours
        ("/greet", "/greet"),  # the widget's opening message
        ('/report_urgent_symptoms{"x": 1}', 'report_urgent_symptoms{"x": 1}'),
        ("/clinical_question", "clinical_question"),  # not a button: plain text for the NLU
        ("//", "/"),
    ],
)
def test_input_is_cleaned_and_only_our_buttons_use_intent_syntax(client, rasa, typed, relayed):
    assert chat(client, typed, "client-id-1").status_code == 200
    assert rasa.sent[-1][1] == relayed


@pytest.mark.parametrize("typed", ["", "   ", "\x00\x00", "\u202e"])
def test_nothing_left_after_cleaning_is_a_clear_400(client, rasa, typed):
    response = chat(client, typed, "client-id-1")
    assert response.status_code == 400
    assert rasa.sent == []
